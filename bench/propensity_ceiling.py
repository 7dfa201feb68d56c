"""How much ROC AUC could any model gain over BG/NBD if customers behaved as BG/NBD says?

Evidence for the propensity goal (+3 ROC AUC points over BG/NBD), not a proof: real
customers are not exactly BG/NBD customers (the boosted model beats BG/NBD on the real
file, so there is structure BG/NBD misses). The script fits BG/NBD on the Online Retail
file up to the benchmark's test cutoff (2011-10-11), then simulates customers from the
fitted model with the real customers' ages (weeks since their first purchase):

* each customer's purchase rate ``lambda ~ Gamma(r, alpha)`` and dropout probability
  ``p ~ Beta(a, b)``; purchases are Poisson while alive; after each repeat purchase the
  customer drops out with probability ``p``;
* label: a purchase in the 4 weeks after the cutoff.

It scores three rankings of the same simulated customers: BG/NBD's own posterior
probability (what the baseline knows), an oracle that knows each customer's ``lambda``
and ``p`` (but not whether they are still alive), and an oracle that also knows whether
they are alive. Neither oracle is a model anyone can fit: they bound what the history
could tell in that world. Each row is the mean over ``--repeats`` simulations (with its
spread)::

    .venv/bin/python bench/propensity_ceiling.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd
from forecasting_bench.customers import online_retail_lines
from sklearn.metrics import roc_auc_score

from forecasting.customers.bgnbd import bgnbd_probability, fit_bgnbd
from forecasting.customers.features import LABEL_DAYS

WEEKS = LABEL_DAYS / 7.0


def simulate(
    T: np.ndarray, params: dict[str, float], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Simulate BG/NBD customers of ages ``T`` (weeks) and the 4 weeks after the cutoff."""
    n = T.size
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    p = rng.beta(params["a"], params["b"], n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    bought = np.zeros(n, dtype=bool)
    clock = np.zeros(n)
    active = np.ones(n, dtype=bool)  # still simulating
    while active.any():
        idx = np.flatnonzero(active)
        clock[idx] += rng.exponential(1.0 / lam[idx])
        before = clock[idx] <= T[idx]
        window = (clock[idx] > T[idx]) & (clock[idx] <= T[idx] + WEEKS)
        bought[idx[window]] = True
        active[idx[~before]] = False  # past the cutoff: the label is known
        hit = idx[before]
        x[hit] += 1
        t_x[hit] = clock[hit]
        dies = rng.uniform(size=hit.size) < p[hit]
        alive[hit[dies]] = False
        active[hit[dies]] = False
    return {"x": x, "t_x": t_x, "T": T, "lam": lam, "p": p, "alive": alive, "y": bought}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    lines = online_retail_lines(args.data_dir)
    cutoff = lines["ds"].max() - pd.Timedelta(days=LABEL_DAYS)
    fitter, weeks = fit_bgnbd(lines, cutoff)
    T = weeks["T"]
    params = {k: float(v) for k, v in fitter.params_.items()}
    print(f"BG/NBD fitted up to {cutoff.date()}: {params}, {len(T)} customers")
    rng = np.random.default_rng(0)
    scores: dict[str, list[float]] = {"BG/NBD posterior": [], "knows rate": [], "knows alive": []}
    rates = []
    for _ in range(args.repeats):
        sim = simulate(T.to_numpy(), params, rng)
        y = sim["y"]
        rates.append(y.mean())
        first = 1.0 - np.exp(-sim["lam"] * WEEKS)
        history = pd.DataFrame({k: sim[k] for k in ("x", "t_x", "T")})
        scores["BG/NBD posterior"].append(roc_auc_score(y, bgnbd_probability(fitter, history)))
        # P(alive | history, lambda, p): dropout after the last purchase vs none since.
        stay = np.exp(-sim["lam"] * (sim["T"] - sim["t_x"]))
        q = np.where(sim["x"] > 0, sim["p"], 0.0)
        p_alive = (1 - q) * stay / ((1 - q) * stay + q)
        scores["knows rate"].append(roc_auc_score(y, p_alive * first))
        scores["knows alive"].append(roc_auc_score(y, sim["alive"] * first))
    print(f"simulated base rate {np.mean(rates):.3f} (real: see the benchmark)")
    for name, values in scores.items():
        print(f"{name:>18}: ROC AUC {np.mean(values):.4f} (sd {np.std(values):.4f})")


if __name__ == "__main__":
    main()
