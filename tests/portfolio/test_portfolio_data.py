import numpy as np
import pytest

import arenas
from arenas.portfolio.data import ESG_SCORES, UNIVERSES, Universe, load_universe
from arenas.portfolio.tasks import ERAS, PERIOD_DAYS, era_bounds, make_tasks


@pytest.mark.parametrize("name", UNIVERSES)
def test_universes_load_from_installed_packages(name):
    u = load_universe(name)
    assert u.prices.shape == (len(u.dates), u.n_assets) and u.n_assets >= 2
    assert np.all(u.prices > 0) and np.all(np.isfinite(u.log_returns))
    assert np.all(np.diff(u.dates) > np.timedelta64(0, "D"))
    assert not u.prices.flags.writeable and u.source
    np.testing.assert_allclose(np.exp(u.log_returns[1:]), u.prices[1:] / u.prices[:-1])


def test_sp500_covers_1990_to_2022(sp500):
    assert sp500.n_assets == 20 and "AAPL" in sp500.tickers
    assert str(sp500.dates[0]) == "1990-01-02" and str(sp500.dates[-1]).startswith("2022-12")
    assert set(sp500.tickers) <= set(ESG_SCORES)


@pytest.mark.parametrize("name", UNIVERSES)
def test_eras_are_disjoint_and_ordered(name):
    u = load_universe(name)
    bounds = [era_bounds(u, s) for s in ("train", "dev", "test") if s in ERAS[name]]
    for (a1, b1), (a2, b2) in zip(bounds, bounds[1:], strict=False):
        assert a1 <= b1 < a2 <= b2
    if name == "sp500":
        a, b = bounds[2]
        assert str(u.dates[a]).startswith("2018-01") and str(u.dates[b]).startswith("2022-12")
        assert ERAS[name]["test"] == ("2018-01-01", "2022-12-31")


@pytest.mark.parametrize("rebalance", list(PERIOD_DAYS))
def test_task_windows_stay_inside_their_era_and_are_deterministic(sp500, rebalance):
    for split in ("train", "dev", "test"):
        a, b = era_bounds(sp500, split)
        tasks = make_tasks(sp500, split, rebalance, 126, 60, 16, 0)
        assert tasks == make_tasks(sp500, split, rebalance, 126, 60, 16, 0)
        assert len(tasks) == 16 and len({t.id for t in tasks}) == 16
        for t in tasks:
            ref = t.reference
            first_return_day = ref["t0"] + 1
            last_day = ref["t0"] + ref["periods"] * ref["period_days"]
            assert a <= first_return_day and last_day <= b and ref["t0"] >= 60


def test_full_era_task_spans_the_test_era(sp500):
    (task,) = make_tasks(sp500, "test", "daily", 0, 60, 16, 0)
    assert task.prompt["start"].startswith("2017-12") and task.reference["end"].startswith("2022-12")
    assert task.reference["periods"] > 1250


def test_sample_tasks_is_seeded():
    arena = arenas.make("portfolio", rebalance="monthly")
    a = [t.id for t in arena.sample_tasks("dev", 5, seed=1)]
    assert a == [t.id for t in arena.sample_tasks("dev", 5, seed=1)]
    assert a != [t.id for t in arena.sample_tasks("dev", 5, seed=2)]


def test_own_data_gets_default_eras_and_bad_data_is_refused():
    rng = np.random.default_rng(0)
    dates = np.arange("2000-01-01", "2006-01-01", dtype="datetime64[D]")[:1500]
    prices = np.exp(np.cumsum(rng.normal(0, 0.01, (1500, 3)), axis=0))
    u = Universe.from_prices("mine", ["a", "b", "c"], dates, prices)
    assert u.tickers == ("A", "B", "C")
    arena = arenas.make("portfolio", universe=u, rebalance="weekly", horizon_days=60, tasks_per_split=4)
    assert all(len(arena.tasks(s)) == 4 for s in ("train", "dev", "test"))
    with pytest.raises(ValueError):
        Universe.from_prices("bad", ["a"], dates[:2], [[1.0], [-1.0]])


def test_factors_is_a_held_out_market_with_only_a_test_split():
    arena = arenas.make("portfolio", universe="factors", split="test")
    assert arena.tasks("train") == [] and arena.tasks("dev") == [] and len(arena.tasks("test")) == 64
    assert set(ERAS["factors"]) == {"test"}
