"""The panel: every series on one daily grid, history and known future together.

Models and features work on dense ``(n_series, n_days)`` arrays rather than on the long
frame: rolling statistics, lags and backtest cut-offs become index arithmetic. The long
frame (``unique_id, ds, y`` plus covariates) stays the exchange format between tasks.

``y`` is ``NaN`` where demand is unknown: before a series starts, and in the future.
Covariates (price, promotion discount, calendar) are known for the future too.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["CALENDAR_COLUMNS", "Panel", "calendar_features"]

#: Calendar features per day, computed by :func:`calendar_features`.
CALENDAR_COLUMNS: tuple[str, ...] = (
    "dayofweek",
    "dayofmonth",
    "month",
    "dayofyear",
    "weekofyear",
    "is_holiday",
    "is_shopping_day",
    "days_to_event",
    "days_since_event",
    "days_to_christmas",
)
_EVENT_CAP = 14
#: Column prefix of :attr:`Panel.daily` arrays in ``values.parquet``.
_DAILY_PREFIX = "daily_"


def calendar_features(dates: pd.DatetimeIndex, events: pd.DataFrame | None) -> pd.DataFrame:
    """Calendar and event features for each date.

    Args:
        dates: Consecutive days.
        events: Frame with ``ds`` (or ``event_date``), ``name``, ``kind`` (``holiday`` or
            ``shopping``; other kinds count as events but set neither flag); may be empty.

    Returns:
        Frame indexed like ``dates`` with :data:`CALENDAR_COLUMNS` (float32). Distances to
        the next/last event are capped at 14 days; ``days_to_christmas`` at 60.
    """
    out = pd.DataFrame(index=dates)
    out["dayofweek"] = dates.dayofweek
    out["dayofmonth"] = dates.day
    out["month"] = dates.month
    out["dayofyear"] = dates.dayofyear
    out["weekofyear"] = dates.isocalendar().week.to_numpy()
    ev = pd.DataFrame(columns=["ds", "kind"]) if events is None else events
    ev = ev.rename(columns={"event_date": "ds"})
    ev_days = (
        pd.to_datetime(ev["ds"]).dt.normalize()
        if len(ev)
        else pd.Series([], dtype="datetime64[ns]")
    )
    kinds = ev["kind"].astype(str) if len(ev) else pd.Series([], dtype=str)
    out["is_holiday"] = dates.isin(ev_days[kinds.to_numpy() == "holiday"])
    out["is_shopping_day"] = dates.isin(ev_days[kinds.to_numpy() == "shopping"])
    # Distances to the nearest event, computed on a grid that extends past both ends.
    any_event = np.zeros(len(dates), dtype=bool)
    any_event[dates.isin(ev_days)] = True
    idx = np.arange(len(dates))
    event_idx = idx[any_event]
    if len(event_idx):
        nxt = np.searchsorted(event_idx, idx, side="left")
        to_next = np.where(
            nxt < len(event_idx), event_idx[np.minimum(nxt, len(event_idx) - 1)] - idx, _EVENT_CAP
        )
        prv = np.searchsorted(event_idx, idx, side="right") - 1
        since = np.where(prv >= 0, idx - event_idx[np.maximum(prv, 0)], _EVENT_CAP)
    else:
        to_next = since = np.full(len(dates), _EVENT_CAP)
    out["days_to_event"] = np.minimum(to_next, _EVENT_CAP)
    out["days_since_event"] = np.minimum(since, _EVENT_CAP)
    christmas = pd.to_datetime({"year": dates.year, "month": 12, "day": 25})
    to_xmas = (christmas.to_numpy() - dates.to_numpy()) / np.timedelta64(1, "D")
    to_xmas = np.where(to_xmas < 0, to_xmas + 365, to_xmas)
    out["days_to_christmas"] = np.minimum(to_xmas, 60)
    return out.astype("float32")


@dataclass(frozen=True)
class Panel:
    """Dense daily panel of ``n`` series over ``T`` consecutive days.

    Attributes:
        ids: One row per series (index 0..n-1): ``unique_id`` plus static columns
            (``sku``, ``location_id`` where known).
        dates: The ``T`` days.
        y: Demand, shape ``(n, T)``, ``NaN`` where unknown.
        price: Unit price, shape ``(n, T)``, known for the future.
        promo: Promotion discount as a fraction (0.2 = 20 % off), shape ``(n, T)``.
        calendar: :func:`calendar_features` for ``dates``.
        n_history: Number of leading days that are history; the rest are the future.
        daily: Further daily arrays per series, shape ``(n, T)`` each, by name (e.g. the
            review counts of :func:`forecasting.features.text.attach_reviews`); what happens
            after the history is hidden by :meth:`truncate` like ``y``.
    """

    ids: pd.DataFrame
    dates: pd.DatetimeIndex
    y: np.ndarray
    price: np.ndarray
    promo: np.ndarray
    calendar: pd.DataFrame
    n_history: int
    daily: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_series(self) -> int:
        """Number of series."""
        return len(self.ids)

    @property
    def last_history_index(self) -> int:
        """Index of the last day with known demand (the natural forecast origin)."""
        return self.n_history - 1

    def truncate(self, cutoff: int) -> Panel:
        """Hide demand after day index ``cutoff``: what a forecaster knew at that origin.

        Covariates stay (prices, promotions and holidays are planned ahead).
        """
        if not 0 <= cutoff < self.n_history:
            raise ValueError(f"cutoff {cutoff} outside history [0, {self.n_history})")
        y = self.y.copy()
        y[:, cutoff + 1 :] = np.nan
        daily = {}
        for name, values in self.daily.items():
            daily[name] = values.astype("float64", copy=True)
            daily[name][:, cutoff + 1 :] = np.nan
        return replace(self, y=y, n_history=cutoff + 1, daily=daily)

    def subset(self, rows: np.ndarray) -> Panel:
        """Panel with only the given series (positions or boolean mask)."""
        ids = self.ids.iloc[rows].reset_index(drop=True)
        return replace(
            self,
            ids=ids,
            y=self.y[rows],
            price=self.price[rows],
            promo=self.promo[rows],
            daily={name: values[rows] for name, values in self.daily.items()},
        )

    def active_series(self, origin: int, days: int) -> np.ndarray:
        """Boolean mask of series with positive demand in the ``days`` days up to ``origin``."""
        window = self.y[:, max(0, origin - days + 1) : origin + 1]
        return np.nansum(window, axis=1) > 0

    # ------------------------------------------------------------------ conversion
    @classmethod
    def from_long(
        cls,
        history: pd.DataFrame,
        future: pd.DataFrame | None = None,
        events: pd.DataFrame | None = None,
    ) -> Panel:
        """Build a panel from long frames.

        Args:
            history: ``unique_id, ds, y`` and optionally ``price``, ``promo_discount`` and
                static columns (``sku``, ``location_id``). One row per series and day from
                the series' start; days before a series' first row are unknown (``NaN``).
            future: Rows after the history's last day with the same covariates and no
                ``y``; may be ``None`` (then the panel has no future days).
            events: Calendar events (``ds``/``event_date``, ``name``, ``kind``).

        Returns:
            The panel; series sorted by ``unique_id``.
        """
        if history.empty:
            raise ValueError("history is empty: nothing to forecast")
        hist_end = pd.Timestamp(history["ds"].max())
        start = pd.Timestamp(history["ds"].min())
        fut = future if future is not None and len(future) else None
        end = pd.Timestamp(fut["ds"].max()) if fut is not None else hist_end
        dates = pd.date_range(start, end, freq="D")
        n_history = int((hist_end - start).days) + 1
        static_cols = [c for c in ("sku", "location_id") if c in history.columns]
        ids = history.drop_duplicates("unique_id").sort_values("unique_id")[
            ["unique_id", *static_cols]
        ]
        ids = ids.reset_index(drop=True)
        pos = pd.Index(ids["unique_id"])
        # Each frame's cells, placed frame by frame (history, then future) rather than
        # concatenated: concatenating frames whose columns differ costs seconds per million
        # rows in pandas' missing-value checks.
        placed = []
        for frame in (history,) if fut is None else (history, fut):
            row = pos.get_indexer(frame["unique_id"])
            keep = row >= 0  # future rows for series without history cannot be forecast
            col = (pd.to_datetime(frame["ds"]) - start).dt.days.to_numpy()
            placed.append((frame, row[keep], col[keep], keep))
        shape = (len(ids), len(dates))

        def grid(column: str, fill: float) -> np.ndarray:
            # A column a frame lacks leaves its cells at ``fill`` (NaN, or 0 for discounts).
            out = np.full(shape, fill, dtype="float64")
            for frame, row, col, keep in placed:
                if column in frame.columns:
                    out[row, col] = frame[column].to_numpy(dtype="float64")[keep]
            return out

        y = grid("y", np.nan)
        y[:, n_history:] = np.nan
        price = grid("price", np.nan)
        price = pd.DataFrame(price.T).ffill().bfill().to_numpy().T  # days without a price
        price = np.where(np.isnan(price), 1.0, price)
        promo = np.nan_to_num(grid("promo_discount", 0.0), nan=0.0)
        calendar = calendar_features(dates, events)
        return cls(ids, dates, y, price, promo, calendar, n_history)

    def to_long(self) -> pd.DataFrame:
        """Long frame of every series and day (history and future)."""
        n, t = self.y.shape
        frame = pd.DataFrame(
            {
                "unique_id": np.repeat(self.ids["unique_id"].to_numpy(), t),
                "ds": np.tile(self.dates.to_numpy(), n),
                "y": self.y.ravel(),
                "price": self.price.ravel(),
                "promo_discount": self.promo.ravel(),
            }
        )
        return frame

    # ------------------------------------------------------------------ storage
    def save(self, folder: str | Path) -> Path:
        """Write the panel as parquet files (``series``, ``values``, ``calendar``) in ``folder``.

        Static columns of :attr:`ids` (text embeddings, neighbours) go to ``series``; each
        :attr:`daily` array is a ``daily_<name>`` column of ``values``.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.ids.to_parquet(folder / "series.parquet", index=False)
        values = self.to_long().drop(columns="unique_id")
        values.insert(
            0, "series", np.repeat(np.arange(self.n_series, dtype="int32"), len(self.dates))
        )
        for name, array in self.daily.items():
            values[f"{_DAILY_PREFIX}{name}"] = array.ravel()
        values.to_parquet(folder / "values.parquet", index=False)
        cal = self.calendar.reset_index(names="ds")
        cal["is_future"] = np.arange(len(self.dates)) >= self.n_history
        cal.to_parquet(folder / "calendar.parquet", index=False)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> Panel:
        """Read a panel written by :meth:`save`."""
        folder = Path(folder)
        ids = pd.read_parquet(folder / "series.parquet")
        cal = pd.read_parquet(folder / "calendar.parquet")
        values = pd.read_parquet(folder / "values.parquet")
        dates = pd.DatetimeIndex(cal["ds"], freq="D")
        shape = (len(ids), len(dates))
        n_history = int((~cal["is_future"]).sum())
        calendar = cal.drop(columns=["ds", "is_future"]).set_index(dates)
        daily = {
            c.removeprefix(_DAILY_PREFIX): values[c].to_numpy().reshape(shape)
            for c in values.columns
            if c.startswith(_DAILY_PREFIX)
        }
        return cls(
            ids,
            dates,
            values["y"].to_numpy().reshape(shape),
            values["price"].to_numpy().reshape(shape),
            values["promo_discount"].to_numpy().reshape(shape),
            calendar,
            n_history,
            daily,
        )
