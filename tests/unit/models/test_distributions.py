import numpy as np
import pytest
from scipy import stats

from forecasting.models.distributions import fit_dispersion, nbinom_quantiles


def test_dispersion_is_recovered_per_series_and_pooled() -> None:
    rng = np.random.default_rng(0)
    ids, ys, means = [], [], []
    for uid, phi, mu in (("poisson", 0.0, 20.0), ("lumpy", 2.0, 3.0)):
        mean = np.full(20_000, mu)
        if phi == 0:
            y = rng.poisson(mean)
        else:
            r = 1 / phi
            y = rng.negative_binomial(r, r / (r + mean))
        ids += [uid] * len(y)
        ys.append(y)
        means.append(mean)
    disp = fit_dispersion(np.array(ids), np.concatenate(ys).astype(float), np.concatenate(means))
    assert disp.by_series["poisson"] == pytest.approx(0.0, abs=0.01)
    assert disp.by_series["lumpy"] == pytest.approx(2.0, rel=0.1)
    assert disp.lookup(np.array(["lumpy", "new-sku"]))[1] == disp.pooled


def test_few_rows_are_shrunk_towards_the_pool() -> None:
    ids = np.array(["a"] * 1000 + ["b"] * 2)
    mean = np.full(1002, 5.0)
    y = np.where(np.arange(1002) % 2 == 0, 0.0, 10.0)  # phi of a = (25 - 5) / 25 = 0.8
    y[-2:] = 5.0  # b alone would look Poisson (phi 0)
    disp = fit_dispersion(ids, y, mean, prior_rows=50)
    assert disp.by_series["a"] == pytest.approx(0.8, rel=0.05)
    assert disp.by_series["b"] > 0.5


def test_quantiles_match_scipy_and_are_ordered() -> None:
    mean = np.array([0.0, 4.0, 4.0, 50.0])
    phi = np.array([1.0, 0.0, 1.0, 0.01])
    q = nbinom_quantiles(mean, phi, (0.1, 0.5, 0.9))
    assert q[0].tolist() == [0, 0, 0]
    assert q[1].tolist() == stats.poisson.ppf([0.1, 0.5, 0.9], 4.0).tolist()
    assert q[2].tolist() == stats.nbinom.ppf([0.1, 0.5, 0.9], 1.0, 1.0 / 5.0).tolist()
    assert (np.diff(q, axis=1) >= 0).all()
