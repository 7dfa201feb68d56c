"""A fitted forecaster plus its interval calibrator: what gets registered and served."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from forecasting.evaluation.calibration import IntervalCalibrator
from forecasting.features.panel import Panel
from forecasting.models.base import Forecaster, load_forecaster

__all__ = ["CalibratedForecaster"]


class CalibratedForecaster(Forecaster):
    """Wraps a fitted forecaster; ``predict`` rescales its P10/P90 with the calibrator.

    Args:
        forecaster: A fitted forecaster.
        calibrator: Interval calibrator learnt on the forecaster's backtest.
        name: Candidate name the model was chosen under (e.g. ``"hgb"``).
    """

    family: ClassVar[str] = "calibrated"

    def __init__(
        self, forecaster: Forecaster, calibrator: IntervalCalibrator | None = None, name: str = ""
    ) -> None:
        self.forecaster = forecaster
        self.calibrator = calibrator
        self.name = name

    def fit(self, panel: Panel) -> CalibratedForecaster:
        """Refit the inner forecaster (the calibrator is kept)."""
        self.forecaster.fit(panel)
        self.n_series_fit_ = panel.n_series
        return self

    def predict(self, panel: Panel, horizon: int, series: np.ndarray | None = None) -> pd.DataFrame:
        """Inner forecast with calibrated P10/P90 (still non-negative and ordered)."""
        out = self.forecaster.predict(panel, horizon, series=series)
        if self.calibrator is not None:
            out = self.calibrator.apply(out)
        return out

    @property
    def uses_exogenous(self) -> bool:  # type: ignore[override]
        return self.forecaster.uses_exogenous

    def save(self, folder: str | Path) -> Path:
        """Inner forecaster in ``inner/``, calibrator and name in ``calibration.json``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.forecaster.save(folder / "inner")
        meta = {
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "family": self.family,
            "name": self.name,
            "calibrator": None if self.calibrator is None else self.calibrator.to_dict(),
        }
        (folder / "forecaster.json").write_text(json.dumps(meta, indent=2))
        return folder

    @classmethod
    def _load(cls, folder: Path) -> CalibratedForecaster:
        meta = json.loads((folder / "forecaster.json").read_text())
        cal = None if meta["calibrator"] is None else IntervalCalibrator(**meta["calibrator"])
        model = cls(load_forecaster(folder / "inner"), cal, meta.get("name", ""))
        model.n_series_fit_ = getattr(model.forecaster, "n_series_fit_", 0)
        return model

    def describe(self) -> dict[str, Any]:
        """The inner model's description plus the calibration factors."""
        info = self.forecaster.describe()
        info["calibrator"] = None if self.calibrator is None else self.calibrator.to_dict()
        return info
