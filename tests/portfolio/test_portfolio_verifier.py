import json
import math

import numpy as np
import pytest

from arenas.portfolio.market import Market, trf_factor
from arenas.verifiers import portfolio as pv

TICKERS = ["AAA", "BBB", "CCC"]
HOLDING = np.array([0.2, 0.3, 0.1, 0.4])


def repair(sub):
    return pv.repair_weights(sub, TICKERS, HOLDING)


@pytest.mark.parametrize("sub, expected", [
    ({"AAA": 0.5, "CASH": 0.5}, [0.5, 0, 0, 0.5]),
    ({"aaa": 0.25, "bbb": "0.25"}, [0.25, 0.25, 0, 0.5]),              # case, numeric string, cash remainder
    ({"AAA": "50%", "CCC": "50%"}, [0.5, 0, 0.5, 0]),
    ('Sure! ```json\n{"BBB": 1}\n```', [0, 1, 0, 0]),
    ({"AAA": 0.333, "BBB": 0.333, "CCC": 0.333}, [0.333, 0.333, 0.333, 0.001]),
    ([1, 1, 1, 1], [0.25, 0.25, 0.25, 0.25]),                          # vectors are normalised
    (np.array([0, 0, 2, 2], dtype=np.float32), [0, 0, 0.5, 0.5]),
    ({}, [0, 0, 0, 1]),
])
def test_valid_submissions(sub, expected):
    w, problems = repair(sub)
    assert problems == []
    np.testing.assert_allclose(w, expected, atol=1e-12)


@pytest.mark.parametrize("sub, expected, words", [
    ({"AAA": -0.5, "BBB": 0.5}, [0, 0.5, 0, 0.5], "negative"),
    ({"AAA": float("nan"), "BBB": 0.5}, [0, 0.5, 0, 0.5], "non-finite"),
    ({"AAA": 1.0, "BBB": 1.0}, [0.5, 0.5, 0, 0], "rescaled"),
    ({"AAA": 0.5, "CASH": 0.2}, [5 / 7, 0, 0, 2 / 7], "rescaled"),
    ({"ZZZ": 0.5, "AAA": 0.5}, [0.5, 0, 0, 0.5], "unknown ticker"),
    ({"AAA": "lots"}, [0, 0, 0, 1], "non-numeric"),
    ({"AAA": True}, [0, 0, 0, 1], "non-numeric"),
    ({"AAA": 0, "CASH": 0}, [0, 0, 0, 1], "all weights are zero"),
    ([0, 0, 0, 0], [0, 0, 0, 1], "all weights are zero"),
    ([1, -1, np.inf, 1], [0.5, 0, 0, 0.5], "negative"),
    ("I am not sure what to do", HOLDING, "no weights found"),
    ([0.5, 0.5], HOLDING, "expected 4 weights"),
    (42, HOLDING, "JSON object or a list"),
])
def test_invalid_submissions_are_repaired_with_a_message(sub, expected, words):
    w, problems = repair(sub)
    assert problems and words in " ".join(problems)
    np.testing.assert_allclose(w, expected, atol=1e-12)


def test_hold_is_valid_and_keeps_the_drifted_weights():
    for sub in (None, "HOLD", " hold\n"):
        w, problems = repair(sub)
        assert problems == [] and np.array_equal(w, HOLDING) and w is not HOLDING


def _junk(rng: np.random.Generator):
    atoms = [0.1, -3, 1e308, -1e-9, float("nan"), float("inf"), "0.2", "abc", "", None, True, [], {},
             "5%", "%", "1e400", "-0", 0]
    kind = rng.integers(6)
    if kind == 0:
        return {str(rng.choice(TICKERS + ["CASH", "cash", "X", ""])): atoms[rng.integers(len(atoms))]
                for _ in range(rng.integers(0, 6))}
    if kind == 1:
        return [atoms[rng.integers(len(atoms))] for _ in range(rng.integers(0, 6))]
    if kind == 2:
        return rng.normal(size=rng.integers(1, 6)) * 10.0 ** rng.integers(-5, 300)
    if kind == 3:
        text = json.dumps({t: float(rng.normal()) for t in TICKERS})
        cut = rng.integers(len(text) + 1)
        return text[:cut] + "".join(chr(c) for c in rng.integers(0, 0x2FF, rng.integers(0, 20)))
    if kind == 4:
        return bytes(rng.integers(0, 256, 8).astype(np.uint8))
    return '{"AAA": [1, 2], "BBB": {"x": 1}, "CCC": null}'


def test_fuzzed_submissions_never_crash_and_always_give_a_valid_portfolio():
    rng = np.random.default_rng(0)
    for _ in range(3000):
        with np.errstate(all="ignore"):
            w, problems = repair(_junk(rng))
        assert w.shape == (4,) and np.all(np.isfinite(w)) and np.all(w >= 0)
        assert abs(w.sum() - 1) < 1e-9
        assert all(isinstance(p, str) and p for p in problems)


def _sequential(targets, gross, cost_bps, model):
    """The arena's step loop over the same window (an independent implementation)."""
    from arenas.portfolio.data import Universe

    periods, n = gross.shape
    prices = np.vstack([np.ones(n), np.cumprod(gross, axis=0)])
    dates = np.arange("2000-01-01", "2100-01-01", dtype="datetime64[D]")[:periods + 1]
    market = Market(Universe.from_prices("t", TICKERS[:n], dates, prices), 0, 1, periods, cost_bps, model)
    return np.array([market.rebalance(t)[0] for t in targets])


@pytest.mark.parametrize("model", pv.COST_MODELS)
def test_vectorised_simulation_matches_the_step_loop(model):
    rng = np.random.default_rng(1)
    gross = np.exp(rng.normal(0, 0.02, (200, 3)))
    targets = rng.dirichlet(np.ones(4), 200)
    sim = pv.simulate(targets, gross, 25e-4, model)
    np.testing.assert_allclose(sim.log_returns, _sequential(targets, gross, 25, model), atol=1e-12, rtol=0)


def test_cost_models_agree_on_the_basics():
    pre, target = np.array([0.5, 0.2, 0.1, 0.2]), np.array([0.1, 0.6, 0.1, 0.2])
    assert trf_factor(pre, pre, 1e-3) == 1.0 and trf_factor(pre, target, 0.0) == 1.0
    mu = trf_factor(pre, target, 1e-3)
    assert 1 - 2 * 1e-3 * 0.8 < mu < 1 and mu == pytest.approx(1 - 1e-3 * 0.8, abs=1e-5)
    # costs are really charged: same trades, more bps, less money
    gross = np.exp(np.random.default_rng(2).normal(0, 0.01, (50, 3)))
    targets = np.random.default_rng(3).dirichlet(np.ones(4), 50)
    values = [pv.simulate(targets, gross, bps / 1e4).log_returns.sum() for bps in (0, 10, 100)]
    assert values[0] > values[1] > values[2]
    turnover = pv.simulate(targets, gross, 0).turnover.sum()
    assert values[0] - values[2] == pytest.approx(turnover * 0.01, rel=0.05)


def test_metrics():
    assert pv.max_drawdown(np.log([1.0, 0.5, 2.0, 0.75])) == pytest.approx(0.5)
    assert pv.max_drawdown(np.array([0.01, 0.02])) == 0.0
    r = np.array([0.01, 0.03, -0.01, 0.02])
    assert pv.sharpe(r, 12) == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(12))
    assert pv.sharpe(np.zeros(5), 12) == 0.0


def test_excess_return_is_zero_for_the_benchmark_itself():
    gross = np.exp(np.random.default_rng(4).normal(0, 0.01, (30, 3)))
    ref = pv.EpisodeReference(tickers=TICKERS, gross=gross, periods_per_year=12, reward="excess")
    out = pv.score(pv.equal_weight_targets(30, 3), ref)
    assert out.components["excess_log_return"] == 0.0 and out.components["sharpe_diff"] == 0.0
    assert out.total == 0.0 and not out.passed


@pytest.mark.parametrize("mode", ["log_return", "excess"])
def test_the_breakdown_total_is_the_sum_of_the_step_rewards_of_the_mode(mode):
    gross = np.exp(np.random.default_rng(5).normal(0, 0.01, (30, 3)))
    ref = pv.EpisodeReference(tickers=TICKERS, gross=gross, periods_per_year=12, reward=mode, invalid_penalty=0.01)
    targets = np.random.default_rng(6).dirichlet(np.ones(4), 30)
    invalid = (np.arange(30) % 7 == 0).astype(float)
    stats = pv.episode_stats(targets, ref, invalid)
    assert pv.score(targets, ref, invalid).total == pytest.approx(stats.step_rewards(ref).sum(), abs=1e-12)


def test_esg_term_grants_high_scores_and_taxes_low_ones():
    gross = np.ones((12, 3))
    ref = pv.EpisodeReference(tickers=TICKERS, gross=gross, periods_per_year=12, esg_rate=0.02,
                              esg_scores=np.array([100.0, 0.0, 50.0]))
    green = np.tile([1.0, 0, 0, 0], (12, 1))
    brown = np.tile([0, 1.0, 0, 0], (12, 1))
    assert pv.score(green, ref).components["esg_regulation"] == pytest.approx(0.02)
    assert pv.score(brown, ref).components["esg_regulation"] == pytest.approx(-0.02)
