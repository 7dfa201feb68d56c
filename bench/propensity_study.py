"""What moves the propensity ROC AUC on UCI Online Retail? A study of variants.

The shipped candidate is gradient boosting on :data:`FEATURE_NAMES`, six training cutoffs
28 days apart, Platt-calibrated on one held-back cutoff (``forecasting benchmark
propensity``). This script scores variants of it with the same two windows as the
benchmark: **validation** (test cutoff 2011-09-13, where settings are chosen) and **test**
(test cutoff 2011-10-11, not tuned on). Scores are raw ROC AUC (Platt scaling is strictly
increasing, so calibration does not change them), except the calibration rows, which show
what isotonic regression and Platt scaling do to ROC AUC and log loss. Variants:

* more training cutoffs: 12 or 24 cutoffs 7 days apart instead of 6 cutoffs 28 days apart,
  and every weekly cutoff up to the calibration cutoff (no calibration hold-out);
* more features: the customer's country is the United Kingdom; the share of Christmas
  items (description keywords) in their purchases, overall and in the last 90 days; the
  mean hour of their orders; BG/NBD's own probability as a feature (stacking);
* another target: a Poisson booster on the number of orders in the 28 days;
* ensembles: five bagged boosters on half the features each; rank average with BG/NBD.

Run (about 4 minutes on 2 cores)::

    .venv/bin/python bench/propensity_study.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Iterable
from datetime import date

import numpy as np
import pandas as pd
from forecasting_bench.customers import online_retail_lines
from scipy.stats import rankdata
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import log_loss, roc_auc_score

from forecasting.customers.features import FEATURE_NAMES, LABEL_DAYS, customer_features, labels
from forecasting.customers.propensity import (
    HGB_PARAMS,
    CutoffPlan,
    PlattCalibrator,
    _bgnbd_score,
)
from forecasting.sources.online_retail import (
    find_online_retail_file,
    is_non_product,
    read_online_retail,
)

DAY = pd.Timedelta(days=1)
#: The benchmark's two test cutoffs: the file's last day minus 56 and minus 28 days.
WINDOWS = {"validation": 56, "test": 28}
#: Category shares are constant here (the file has no categories).
BASE = [f for f in FEATURE_NAMES if not f.startswith("category_share")]
XMAS = "CHRISTMAS|XMAS|ADVENT|SANTA|REINDEER|SNOW"


def booster(**overrides: float) -> HistGradientBoostingClassifier:
    """The shipped candidate's booster, with ``overrides``."""
    params = {**HGB_PARAMS, "random_state": 42, **overrides}
    return HistGradientBoostingClassifier(**params)


def feature_rows(data_dir: str, cutoffs: list[pd.Timestamp]) -> pd.DataFrame:
    """The shipped features, the extra ones, BG/NBD and the labels at every cutoff."""
    lines = online_retail_lines(data_dir)
    raw = read_online_retail(find_online_retail_file(data_dir)).dropna(subset=["CustomerID"])
    raw = raw.loc[~is_non_product(raw["StockCode"].astype(str)) & (raw["Quantity"] > 0)]
    raw = raw.assign(
        ds=raw["InvoiceDate"].dt.normalize(),
        xmas=raw["Description"].fillna("").str.upper().str.contains(XMAS).astype(float),
        hour=raw["InvoiceDate"].dt.hour,
    )
    country = raw.groupby("CustomerID")["Country"].agg(lambda s: s.mode().iloc[0])
    frames = []
    for c in cutoffs:
        x = customer_features(lines, c, ["product"])
        lab = labels(lines, c).reindex(x.index)
        seen = raw.loc[raw["ds"] <= c].groupby("CustomerID")
        recent = raw.loc[(raw["ds"] <= c) & (raw["ds"] > c - 90 * DAY)].groupby("CustomerID")
        x = x.assign(
            y=lab["bought"].fillna(0).astype(int),
            orders_next=lab["orders"].fillna(0),
            cutoff=c,
            uk=(country.reindex(x.index) == "United Kingdom").astype(float),
            xmas_share=seen["xmas"].mean().reindex(x.index),
            xmas_share_90=recent["xmas"].mean().reindex(x.index).fillna(-1.0),
            hour_mean=seen["hour"].mean().reindex(x.index),
            bgnbd=_bgnbd_score(lines, c, x.index),
        )
        frames.append(x)
    return pd.concat(frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default="../shared/data")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    last = online_retail_lines(args.data_dir)["ds"].max()
    earliest = pd.Timestamp("2011-01-10")  # five weeks of history at least
    cutoffs = [last - (28 + 7 * k) * DAY for k in range(60)]
    rows = feature_rows(args.data_dir, [c for c in cutoffs if c >= earliest])

    def auc(frame: pd.DataFrame, p: np.ndarray) -> float:
        return round(float(roc_auc_score(frame["y"], p)), 4)

    results: dict[str, dict[str, float]] = {}
    for window, back in WINDOWS.items():
        run_day = (last - (back - LABEL_DAYS) * DAY).date()
        plan = CutoffPlan.for_day(run_day)
        calibration = pd.Timestamp(plan.calibration)
        E = rows.loc[rows["cutoff"] == pd.Timestamp(plan.test[0])]
        C = rows.loc[rows["cutoff"] == calibration]

        def train(cutoffs: Iterable[date | pd.Timestamp]) -> pd.DataFrame:
            return rows.loc[rows["cutoff"].isin([pd.Timestamp(c) for c in cutoffs])]

        T = train(plan.train)
        out = results.setdefault
        base = booster().fit(T[BASE], T["y"])
        p = base.predict_proba(E[BASE])[:, 1]
        pc = base.predict_proba(C[BASE])[:, 1]
        out("BG/NBD (baseline)", {})[window] = auc(E, E["bgnbd"].to_numpy())
        out("shipped: booster, 6 cutoffs 28 d apart", {})[window] = auc(E, p)
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(pc, C["y"])
        platt = PlattCalibrator().fit(pc, C["y"].to_numpy())
        for name, q in (("isotonic", iso.predict(p)), ("Platt", platt.predict(p))):
            out(f"  calibrated by {name}: ROC AUC", {})[window] = auc(E, q)
            ll = float(log_loss(E["y"], np.clip(q, 1e-6, 1 - 1e-6)))
            out(f"  calibrated by {name}: log loss", {})[window] = round(ll, 4)
        for n in (12, 24):
            Tn = train(CutoffPlan.for_day(run_day, n_train=n, step=7).train)
            q = booster().fit(Tn[BASE], Tn["y"]).predict_proba(E[BASE])[:, 1]
            out(f"{n} cutoffs 7 d apart", {})[window] = auc(E, q)
        Tall = train(calibration - 7 * k * DAY for k in range(60))
        q = booster(learning_rate=0.02, max_iter=600).fit(Tall[BASE], Tall["y"])
        out("every weekly cutoff to calibration (lr 0.02)", {})[window] = auc(
            E, q.predict_proba(E[BASE])[:, 1]
        )
        for extra in (["uk"], ["xmas_share", "xmas_share_90"], ["hour_mean"], ["bgnbd"]):
            feats = BASE + extra
            q = booster().fit(T[feats], T["y"]).predict_proba(E[feats])[:, 1]
            out(f"+ {', '.join(extra)}", {})[window] = auc(E, q)
        feats = [*BASE, "uk", "xmas_share", "xmas_share_90", "hour_mean", "bgnbd"]
        q = booster().fit(T[feats], T["y"]).predict_proba(E[feats])[:, 1]
        out("+ all five extra features", {})[window] = auc(E, q)
        poisson = HistGradientBoostingRegressor(
            loss="poisson", max_iter=300, learning_rate=0.05, max_leaf_nodes=15, random_state=42
        ).fit(T[BASE], T["orders_next"])
        out("Poisson booster on orders", {})[window] = auc(E, poisson.predict(E[BASE]))
        bag = [booster(random_state=s, max_features=0.5).fit(T[BASE], T["y"]) for s in range(5)]
        q = np.mean([b.predict_proba(E[BASE])[:, 1] for b in bag], axis=0)
        out("5 bagged boosters, half the features each", {})[window] = auc(E, q)
        out("rank average with BG/NBD", {})[window] = auc(E, rankdata(p) + rankdata(E["bgnbd"]))
    table = pd.DataFrame(results).T
    print(table.to_string())


if __name__ == "__main__":
    main()
