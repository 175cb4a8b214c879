"""The anonymised view (default): no real ticker, year or price level reaches the text, labels are
stable, and every reward is bit-identical to the real-name episode."""

import re

import numpy as np

import arenas
from arenas.portfolio.data import anonymised


def _play(arena, task, texts):
    obs = arena.reset(task, seed=0)
    seen, rewards = [obs.text], []
    for text in texts:
        result = arena.step(text)
        seen.append(result.observation.text)
        rewards.append(result.reward)
        if result.done:
            break
    return seen, rewards, result


def test_anonymised_view_hides_names_years_and_price_levels(sp500):
    view = anonymised(sp500)
    assert sorted(view.tickers) == [f"A{i:02d}" for i in range(1, 21)] and view.tickers != tuple(sorted(view.tickers))
    assert view.tickers == anonymised(sp500).tickers  # stable
    shift = (view.dates - sp500.dates).astype(int)
    assert len(set(shift)) == 1 and shift[0] % 7 == 0 and 50 * 365 <= shift[0] <= 101 * 365
    ratio = view.prices[0] / sp500.prices[0]
    assert np.all(np.log2(ratio) == np.round(np.log2(ratio))) and len(set(ratio)) > 1
    np.testing.assert_array_equal(view.log_returns, sp500.log_returns)


def test_text_view_is_anonymised_by_default_and_rewards_are_identical():
    config = {"split": "test", "rebalance": "weekly", "horizon_days": 60, "tasks_per_split": 2}
    anon, real = arenas.make("portfolio", **config), arenas.make("portfolio", anonymize=False, **config)
    task = anon.tasks("test")[0]
    tools = '<tool_call>{"name": "prices", "arguments": {"ticker": "%s", "days": 5}}</tool_call>'
    weights = {i: round(float(w), 3) for i, w in enumerate(np.random.default_rng(0).dirichlet(np.ones(21))[:20])}

    def texts(tickers):
        submit = "{" + ", ".join(f'"{tickers[i]}": {w}' for i, w in weights.items()) + "}"
        return [tools % tickers[3], submit, "HOLD", submit] + ["HOLD"] * 20

    seen_a, rewards_a, last_a = _play(anon, task, texts(anon.view.tickers))
    seen_r, rewards_r, last_r = _play(real, task, texts(real.view.tickers))
    joined = "\n".join(seen_a)
    assert not any(re.search(rf"\b{t}\b", joined) for t in real.data.tickers)
    assert not re.search(r"\b(19\d\d|20[0-5]\d)-\d\d-\d\d\b", joined) and "A01" in joined  # no real year
    assert anon.invalid_actions == 0 and "unknown ticker" not in joined
    assert rewards_a == rewards_r and last_a.info["reward_breakdown"] == last_r.info["reward_breakdown"]
    info = anon.info()
    assert "anonymised" in info["description"] and "anonymised" not in real.info()["description"]
    assert any(row["name"] == "anonymize" and row["default"] is True for row in info["config"])


def test_sharpe_is_annualised_by_the_bar_frequency():
    for rebalance, per_year in (("daily", 252), ("weekly", 52), ("monthly", 12)):
        arena = arenas.make("portfolio", rebalance=rebalance, horizon_days=252)
        assert arena.episode_reference(arena.tasks("train")[0]).periods_per_year == per_year


def test_anonymised_tasks_show_labels_and_shifted_dates_but_play_the_same_window():
    anon, real = arenas.make("portfolio", tasks_per_split=4), arenas.make("portfolio", tasks_per_split=4, anonymize=False)
    for a, r in zip(anon.tasks("dev"), real.tasks("dev"), strict=True):
        assert a.reference == r.reference and a.id != r.id and r.prompt["start"] in r.id
        assert a.prompt["start"] in a.id and a.prompt["start"] > "2060" and a.prompt["tickers"][0].startswith("A")
