import numpy as np
import pytest

from arenas.portfolio import baselines as b


def _kkt_gap(q, c, w):
    """Largest violation of the KKT conditions of min 1/2 w'Qw - c'w on the simplex."""
    g = q @ w - c
    active = w > 1e-10
    nu = -g[active].mean()
    stationarity = np.abs(g[active] + nu).max()
    dual = max(0.0, -(g[~active] + nu).min()) if (~active).any() else 0.0
    return max(stationarity, dual, abs(w.sum() - 1), max(0.0, -w.min()))


@pytest.mark.parametrize("seed", range(20))
def test_simplex_qp_is_exactly_optimal(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 25))
    a = rng.normal(size=(n, n))
    q = a @ a.T / n + np.eye(n) * 1e-3
    c = rng.normal(size=n) * rng.choice([0.0, 0.1, 1.0])
    w = b.simplex_qp(q, c)
    assert _kkt_gap(q, c, w) < 1e-9


def test_rules_on_real_history(sp500):
    r = sp500.log_returns[5000:5252]
    for name, fn in b.ESTIMATORS.items():
        w = fn(r)
        assert w.shape == (21,) and np.all(w >= 0) and abs(w.sum() - 1) < 1e-12, name
    mv = b.min_variance(r)[:-1]
    sigma = b.covariance(r)
    for other in (b.inverse_variance(r)[:-1], b.equal_weight(20)[:-1]):
        assert mv @ sigma @ mv <= other @ sigma @ other + 1e-15
    iv = b.inverse_variance(r)
    assert iv[np.argmin(r.var(0))] == iv[:-1].max() and iv[-1] == 0


def test_momentum_buys_the_top_quarter_with_positive_momentum():
    r = np.zeros((300, 8))
    r[:, 0], r[:, 1], r[:, 2] = 0.002, 0.001, -0.001
    w = b.momentum(r)
    np.testing.assert_allclose(w, [0.5, 0.5, 0, 0, 0, 0, 0, 0, 0])
    r[:, 1] = -0.002
    np.testing.assert_allclose(b.momentum(r), [0.5, 0, 0, 0, 0, 0, 0, 0, 0.5])


def test_heuristic_is_the_strongest_non_oracle_rule_on_the_dev_era():
    import arenas

    arena = arenas.make("portfolio", split="dev", rebalance="weekly", horizon_days=0)
    task = arena.tasks("dev")[0]
    totals = {}
    for name in b.NAMES:
        if name in ("oracle", "random"):
            continue
        obs, policy = arena.reset(task, seed=0), arena.policy(name)
        while not (result := arena.step(policy(obs))).done:
            obs = result.observation
        totals[name] = result.info["reward_breakdown"]["total"]
    assert max(totals, key=totals.get) == b.HEURISTIC
    assert arena.policy("heuristic").name == b.HEURISTIC
