"""The BG/NBD propensity baseline (``lifetimes``): fitted on each customer's purchase
days up to a cutoff, it gives P(alive) x P(at least one purchase in the next 28 days).

lifetimes prints SciPy's whole optimiser result when a fit does not converge; here a fit
is quiet: it retries with a larger penaliser and logs one line naming the cutoff, why the
fit failed and the penaliser it fell back to.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np
import pandas as pd

from forecasting.customers.features import LABEL_DAYS, purchases

__all__ = ["BGNBD_PENALIZERS", "bgnbd_probability", "bgnbd_score", "fit_bgnbd"]

log = logging.getLogger(__name__)

#: Penalisers BG/NBD is fitted with, in order, until one converges.
BGNBD_PENALIZERS = (0.001, 0.01, 0.1)


def _fit_quietly(weeks: pd.DataFrame, penalizer: float) -> tuple[Any, str | None]:
    """One BG/NBD fit with lifetimes' optimiser dump and warnings kept out of the output.

    Returns:
        The fitter, and ``None`` or why the fit failed (one line).
    """
    import contextlib
    import io
    import warnings

    from lifetimes import BetaGeoFitter
    from lifetimes.utils import ConvergenceError

    dump = io.StringIO()  # lifetimes prints SciPy's whole OptimizeResult when it fails
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(dump):
            warnings.simplefilter("ignore")
            fitter = BetaGeoFitter(penalizer_coef=penalizer)
            fitter.fit(weeks["x"], weeks["t_x"], weeks["T"])
    except ConvergenceError:
        found = re.search(r"message:\s*(.+)", dump.getvalue())
        why = found.group(1).strip() if found else "did not converge"
        if re.search(r"fun:\s*nan", dump.getvalue()):
            why += " (NaN likelihood)"
        return None, why
    params = np.asarray([float(v) for v in fitter.params_.values], dtype=float)
    if not np.isfinite(params).all():
        return None, "NaN parameters"
    return fitter, None


def fit_bgnbd(lines: pd.DataFrame, cutoff: pd.Timestamp) -> tuple[Any, pd.DataFrame]:
    """BG/NBD (``lifetimes``) fitted on every customer's purchase days up to ``cutoff``.

    The penaliser is raised (:data:`BGNBD_PENALIZERS`) only if a fit does not converge; a
    fit that needed it logs one line naming the cutoff, why the fit failed and the
    penaliser it fell back to (lifetimes' optimiser output never reaches the console).

    Returns:
        The fitted ``BetaGeoFitter`` and its data in weeks (index ``customer``; columns
        ``x`` repeat purchase days, ``t_x`` age at the last one, ``T`` age at the cutoff).

    Raises:
        RuntimeError: If no penaliser converges (naming the cutoff).
    """
    from lifetimes.utils import summary_data_from_transaction_data

    bought = purchases(lines.loc[lines["ds"] <= cutoff])
    summary = summary_data_from_transaction_data(
        bought[["customer", "ds"]].drop_duplicates(),
        "customer",
        "ds",
        observation_period_end=cutoff,
    )
    # Weeks, not days: the likelihood is badly scaled in days and the optimiser diverges
    # (lifetimes' own advice).
    weeks = pd.DataFrame(
        {"x": summary["frequency"], "t_x": summary["recency"] / 7.0, "T": summary["T"] / 7.0}
    )
    failed: list[str] = []
    for penalizer in BGNBD_PENALIZERS:
        fitter, why = _fit_quietly(weeks, penalizer)
        if fitter is not None:
            if failed:
                log.warning(
                    "BG/NBD fit at cutoff %s failed with penalizer %s; fell back to penalizer %s",
                    pd.Timestamp(cutoff).date(),
                    "; ".join(failed),
                    penalizer,
                )
            return fitter, weeks
        failed.append(f"{penalizer} ({why})")
    raise RuntimeError(
        f"BG/NBD fit at cutoff {pd.Timestamp(cutoff).date()} failed with every penalizer: "
        + "; ".join(failed)
    )


def bgnbd_score(lines: pd.DataFrame, cutoff: pd.Timestamp, customers: pd.Index) -> np.ndarray:
    """P(at least one purchase in the next 28 days) under BG/NBD fitted up to ``cutoff``.

    ``P(alive) x (1 - ((alpha + T) / (alpha + T + t)) ** (r + x))``: with no purchase in
    the window no dropout can happen in it (BG/NBD drops out right after purchases), so
    the second factor is the Gamma-Poisson probability of a first purchase.
    """
    fitter, weeks = fit_bgnbd(lines, cutoff)
    score = pd.Series(bgnbd_probability(fitter, weeks), index=weeks.index)
    return score.reindex(customers).fillna(0.0).to_numpy()


def bgnbd_probability(fitter: Any, weeks: pd.DataFrame) -> np.ndarray:
    """BG/NBD's probability of at least one purchase in the ``LABEL_DAYS`` days after the
    cutoff, for customers with histories ``weeks`` (columns ``x``, ``t_x``, ``T``, as
    :func:`fit_bgnbd` returns them)."""
    x, T = weeks["x"].to_numpy(float), weeks["T"].to_numpy(float)
    alive = np.asarray(fitter.conditional_probability_alive(x, weeks["t_x"].to_numpy(float), T))
    r, alpha = fitter.params_["r"], fitter.params_["alpha"]
    first = 1.0 - ((alpha + T) / (alpha + T + LABEL_DAYS / 7.0)) ** (r + x)
    return np.asarray(alive * first)
