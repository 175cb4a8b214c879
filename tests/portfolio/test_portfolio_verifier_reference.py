"""The portfolio verifier against values worked out by hand: the repair rule's exact messages and
edge cases, a two-period simulation, Jiang et al.'s transaction remainder factor in closed form,
every rubric component on a hand-made episode, and the replay of a short action log."""

import math
import statistics

import numpy as np
import pytest

from arenas.verifiers import portfolio as pv

TICKERS = ["AAA", "BBB", "CCC"]
HOLDING = np.array([0.2, 0.3, 0.1, 0.4])
C = 0.01  # 100 bps


def repair(sub):
    return pv.repair_weights(sub, TICKERS, HOLDING)


def _same(w, expected):
    np.testing.assert_allclose(w, expected, atol=1e-12, rtol=0)


# ---- the repair rule ------------------------------------------------------------------------
def test_messages_list_at_most_five_names_and_the_valid_tickers():
    w, problems = repair({f"U{i}": 0.1 for i in range(1, 8)} | {"AAA": 1.0})
    _same(w, [1, 0, 0, 0])
    assert problems == ["unknown ticker(s) ignored: U1, U2, U3, U4, U5; tickers: AAA, BBB, CCC, CASH"]


def test_each_repeated_ticker_and_its_bad_value_is_reported():
    spellings = ["AAA", "aaa", "Aaa", "aAa", "aaA", "AAa"]
    w, problems = repair(dict.fromkeys(spellings, "lots") | {"BBB": 0.5})
    _same(w, [0, 0.5, 0, 0.5])
    assert problems == ["AAA given twice; the last value was used"] * 5 + [
        "non-numeric or non-finite weight(s) set to 0: AAA, aaa, Aaa, aAa, aaA"]
    w, problems = repair(dict.fromkeys(spellings, -1) | {"BBB": 0.5})
    assert problems[-1] == "negative weight(s) set to 0 (long-only): AAA, aaa, Aaa, aAa, aaA"
    _, problems = repair({"CASH": 0.5, "cash": 1.0})
    assert problems == ["CASH given twice; the last value was used"]


def test_zero_weights_are_valid():
    w, problems = repair({"AAA": 0, "BBB": 0.0, "CCC": "0%", "CASH": 1})
    assert problems == [] and np.array_equal(w, [0, 0, 0, 1])


def test_text_after_a_number_makes_the_weight_unreadable():
    for bad in ("0.5X", "50%%x", "0.5 units"):
        w, problems = repair({"AAA": bad, "CASH": 1})
        _same(w, [0, 0, 0, 1])
        assert problems == ["non-numeric or non-finite weight(s) set to 0: AAA"]
    w, problems = repair({"AAA": " 50 % ", "CASH": "0.5"})
    assert problems == [] and np.array_equal(w, [0.5, 0, 0, 0.5])


def test_weights_summing_to_at_most_one_plus_tolerance_are_rescaled_silently():
    w, problems = repair({"AAA": 1.01})  # exactly 1 + SUM_TOLERANCE
    assert problems == [] and np.array_equal(w, [1, 0, 0, 0])
    w, problems = repair({"AAA": 0.7, "BBB": 0.32})
    assert problems == ["weights sum to 1.02 > 1; rescaled to sum to 1 with no cash"]
    _same(w, [0.7 / 1.02, 0.32 / 1.02, 0, 0])


def test_explicit_cash_off_by_more_than_the_tolerance_is_reported():
    w, problems = repair({"AAA": 0.5, "CASH": 0.505})
    assert problems == [] and np.array_equal(w, np.array([0.5, 0, 0, 0.505]) / 1.005)
    w, problems = repair({"AAA": 0.5, "CASH": 0.3})
    assert problems == ["weights sum to 0.8, not 1; rescaled to sum to 1"]
    _same(w, [0.625, 0, 0, 0.375])
    _, problems = repair({"AAA": 0, "CASH": 0})
    assert problems == ["all weights are zero; holding all cash"]


def test_the_first_parsable_json_in_a_reply_is_used():
    w, problems = repair('{not json} then {"BBB": 0.25, "CASH": 0.75}')
    assert problems == [] and np.array_equal(w, [0, 0.25, 0, 0.75])
    w, problems = repair("weights: [1, 1, 2, 0]")
    assert problems == [] and np.array_equal(w, [0.25, 0.25, 0.5, 0])


def test_messages_for_replies_without_weights():
    w, problems = repair("buy everything")
    assert np.array_equal(w, HOLDING) and w is not HOLDING
    assert problems == ['no weights found: reply with a JSON object such as {"AAA": 0.1, "CASH": 0.9} '
                        '(or HOLD); no trade']
    w, problems = repair(3.5)
    assert np.array_equal(w, HOLDING) and problems == [
        "weights must be a JSON object or a list, got float; no trade"]
    w, problems = repair(["x", 1, 1, 1])
    assert np.array_equal(w, HOLDING) and problems == ["the weight vector is not numeric; no trade"]


def test_vectors_of_any_shape_are_read_flat():
    w, problems = repair(np.array(0.5))
    assert np.array_equal(w, HOLDING) and problems == ["expected 4 weights (3 assets then cash), got 1; no trade"]
    w, problems = repair(np.array([[1.0, 1.0], [0.0, 2.0]]))
    assert problems == [] and np.array_equal(w, [0.25, 0.25, 0, 0.5])


@pytest.mark.parametrize("vector, expected, problems", [
    ([0.5, 0, np.nan, 0.5], [0.5, 0, 0, 0.5], ["non-finite weight(s) set to 0"]),
    ([0.25, -1, 0.25, 0], [0.5, 0, 0.5, 0], ["negative weight(s) set to 0 (long-only)"]),
    ([0.5, -1, -np.inf, 0.5], [0.5, 0, 0, 0.5], ["non-finite weight(s) set to 0",
                                                 "negative weight(s) set to 0 (long-only)"]),
    ([0, -1, 0, 0], [0, 0, 0, 1], ["negative weight(s) set to 0 (long-only)",
                                   "all weights are zero; holding all cash"]),
    ([1e308, 1e308, 0, 0], [0.5, 0.5, 0, 0], []),  # the sum overflows; the weights do not
    ([0.1, 0.1, 0.1, 0.2], [0.2, 0.2, 0.2, 0.4], []),
])
def test_vector_repairs(vector, expected, problems):
    with np.errstate(over="ignore"):
        w, found = repair(vector)
    assert found == problems
    _same(w, expected)


def test_a_repaired_vector_never_changes_the_callers_array():
    sub = np.array([0.5, -1.0, 0.0, 0.5])
    repair(sub)
    assert sub.tolist() == [0.5, -1.0, 0.0, 0.5]


# ---- the simulation -------------------------------------------------------------------------
GROSS = np.array([[1.1], [0.9]])
HALF = np.array([[0.5, 0.5], [0.5, 0.5]])


def test_two_periods_of_proportional_costs_by_hand():
    sim = pv.simulate(HALF, GROSS, C)
    # period 0: all cash -> half A, turnover 0.5; the book grows 0.5 x 1.1 + 0.5 = 1.05 and drifts
    # to A = 0.55 / 1.05, so period 1 trades |0.5 - 0.55 / 1.05| back
    t1 = 0.025 / 1.05
    _same(sim.turnover, [0.5, t1])
    _same(sim.cost_factor, [1 - C * 0.5, 1 - C * t1])
    _same(sim.log_returns, [math.log((1 - C * 0.5) * 1.05), math.log((1 - C * t1) * 0.95)])
    assert sim.targets is HALF


@pytest.mark.parametrize("initial, turnover0", [([1.0, 0.0], 0.5), ([0.5, 0.5], 0.0), ([0.0, 1.0], 0.5)])
def test_the_initial_portfolio_sets_the_first_trade(initial, turnover0):
    sim = pv.simulate(HALF, GROSS, C, initial=np.array(initial))
    assert sim.turnover[0] == pytest.approx(turnover0, abs=1e-12)
    assert sim.cost_factor[0] == pytest.approx(1 - C * turnover0, abs=1e-12)


def test_transaction_remainder_factor_in_closed_form():
    # Jiang et al. (2017) eq. 14 with c_s = c_p = c, pre (0.5 risky, 0.5 cash) -> target (0.25, 0.75):
    # mu (1 - 0.75 c) = 1 - 0.5 c - (2c - c^2)(0.5 - 0.25 mu)
    #   => mu = (1 - 1.5 c + 0.5 c^2) / (1 - 1.25 c + 0.25 c^2)
    sim = pv.simulate(np.array([[0.25, 0.75]]), np.ones((1, 1)), C, "trf", initial=np.array([0.5, 0.5]))
    assert sim.cost_factor[0] == pytest.approx((1 - 1.5 * C + 0.5 * C * C) / (1 - 1.25 * C + 0.25 * C * C), abs=1e-14)
    # all cash into one asset, and all of it back: 1 - c either way
    sim = pv.simulate(np.array([[1.0, 0.0], [0.0, 1.0]]), np.ones((2, 1)), C, "trf")
    _same(sim.cost_factor, [1 - C, 1 - C])
    # no trade, no cost
    sim = pv.simulate(np.array([[0.3, 0.7]]), np.ones((1, 1)), C, "trf", initial=np.array([0.3, 0.7]))
    assert sim.cost_factor[0] == 1.0


def test_unknown_cost_model_is_named():
    with pytest.raises(ValueError, match="cost_model must be one of .*'flat'"):
        pv.simulate(HALF, GROSS, C, "flat")


def test_equal_weight_benchmark_holds_no_cash():
    assert pv.equal_weight_targets(2, 4).tolist() == [[0.25, 0.25, 0.25, 0.25, 0.0]] * 2


def test_metrics_by_hand():
    assert pv.sharpe(np.array([0.3]), 12) == 0.0
    r = np.array([0.1, 0.3])  # mean 0.2, sample sd 0.1414
    assert pv.sharpe(r, 4) == pytest.approx(0.2 / statistics.stdev([0.1, 0.3]) * 2, abs=1e-12)
    # a peak after a gain, then a loss of three quarters
    assert pv.max_drawdown(np.log([2.0, 0.25])) == pytest.approx(0.75, abs=1e-12)
    assert pv.max_drawdown(np.log([0.5])) == pytest.approx(0.5, abs=1e-12)  # from the initial value


# ---- rubric components --------------------------------------------------------------------
def _sim(log_returns, turnover=(0.0, 0.0, 0.0), cost=(1.0, 1.0, 1.0)):
    return pv.Simulation(np.zeros((3, 2)), np.array(log_returns), np.array(turnover), np.array(cost))


AGENT = _sim([0.1, -0.2, 0.3], turnover=[1.0, 0.5, 0.0], cost=[0.99, 0.995, 1.0])
BENCH = _sim([0.0, 0.1, 0.0])
STATS = pv.EpisodeStats(AGENT, BENCH, esg=np.array([0.01, -0.02, 0.0]), invalid=np.array([1.0, 0.0, 1.0]),
                        periods_per_year=12)
FLAT = pv.EpisodeStats(BENCH, BENCH, esg=np.zeros(3), invalid=np.zeros(3), periods_per_year=12)


def _check(verdict, score, passed, details):
    assert verdict.score == pytest.approx(score, abs=1e-12)
    assert verdict.passed is passed
    assert verdict.details == pytest.approx(details, abs=1e-12)


def test_return_components_by_hand():
    _check(pv.excess_log_return(STATS, None, {}), 0.1, True,
           {"log_return": 0.2, "benchmark_log_return": 0.1, "final_value": math.exp(0.2)})
    _check(pv.excess_log_return(FLAT, None, {}), 0.0, False,
           {"log_return": 0.1, "benchmark_log_return": 0.1, "final_value": math.exp(0.1)})
    _check(pv.log_return(STATS, None, {}), 0.2, True, {"final_value": math.exp(0.2)})
    zero = pv.EpisodeStats(_sim([0.1, -0.1, 0.0]), BENCH, np.zeros(3), np.zeros(3), 12)
    _check(pv.log_return(zero, None, {}), 0.0, False, {"final_value": 1.0})


def test_risk_components_by_hand():
    mine = statistics.mean([0.1, -0.2, 0.3]) / statistics.stdev([0.1, -0.2, 0.3]) * math.sqrt(12)
    bench = statistics.mean([0.0, 0.1, 0.0]) / statistics.stdev([0.0, 0.1, 0.0]) * math.sqrt(12)
    _check(pv.sharpe_diff(STATS, None, {}), mine - bench, mine > bench, {"sharpe": mine, "benchmark_sharpe": bench})
    _check(pv.sharpe_diff(FLAT, None, {}), 0.0, False, {"sharpe": bench, "benchmark_sharpe": bench})
    # agent curve 0, 0.1, -0.1, 0.2: worst fall 0.2 in log from the 0.1 peak; the benchmark never falls
    _check(pv.drawdown(STATS, None, {}), 1 - math.exp(-0.2), False, {"benchmark_max_drawdown": 0.0})
    _check(pv.drawdown(FLAT, None, {}), 0.0, True, {"benchmark_max_drawdown": 0.0})


def test_turnover_is_annualised_and_reports_the_cost_paid():
    # 1.5 of turnover over 3 monthly periods = a quarter of a year
    _check(pv.turnover(STATS, None, {}), 6.0, True, {"cost_paid_log": -(math.log(0.99) + math.log(0.995))})


def test_esg_and_invalid_components():
    _check(pv.esg_regulation(STATS, None, {}), -0.01, False, {})
    _check(pv.esg_regulation(FLAT, None, {}), 0.0, True, {})
    _check(pv.invalid_periods(STATS, None, {}), -2.0, False, {"invalid": 2})
    _check(pv.invalid_periods(FLAT, None, {}), 0.0, True, {"invalid": 0})


def test_step_rewards_by_hand():
    ref = pv.EpisodeReference(tickers=["A"], gross=np.ones((3, 1)), invalid_penalty=0.5)
    np.testing.assert_allclose(STATS.step_rewards(ref), [0.1 + 0.01 - 0.5, -0.2 - 0.02, 0.3 - 0.5], atol=1e-12)
    ref.reward = "excess"
    np.testing.assert_allclose(STATS.step_rewards(ref), [0.1 + 0.01 - 0.5, -0.3 - 0.02, 0.3 - 0.5], atol=1e-12)


def test_reward_weights_of_each_mode():
    ref = pv.EpisodeReference(tickers=["A"], gross=np.ones((1, 1)), invalid_penalty=0.25,
                              weights={**pv.DEFAULT_WEIGHTS, "sharpe_diff": 0.5, "esg_regulation": 0.0})
    assert pv.reward_weights(ref) == {"excess_log_return": 0.0, "log_return": 1.0, "sharpe_diff": 0.5,
                                      "max_drawdown": 0.0, "turnover": 0.0, "esg_regulation": 1.0,
                                      "invalid_periods": 0.25}
    ref.reward = "excess"
    assert pv.reward_weights(ref)["excess_log_return"] == 1.0 and pv.reward_weights(ref)["log_return"] == 0.0


def test_rubric_passes_when_the_benchmark_is_beaten():
    out = pv.rubric().score(STATS, None)
    assert out.passed and out.total == pytest.approx(0.1 - 0.01, abs=1e-12)  # excess + esg by default
    assert not pv.rubric({"esg_regulation": 0.0}).score(FLAT, None).passed


# ---- episode stats and the replay ----------------------------------------------------------
def test_episode_stats_use_the_references_cost_model_and_esg_rule():
    gross = np.array([[1.1, 0.9], [0.9, 1.2]])
    targets = np.array([[0.5, 0.0, 0.5], [0.0, 1.0, 0.0]])
    ref = pv.EpisodeReference(tickers=["A", "B"], gross=gross, cost_bps=100, cost_model="trf", periods_per_year=4,
                              esg_rate=0.2, esg_scores=np.array([100.0, 25.0]))
    stats = pv.episode_stats(targets, ref, invalid=[True, False])
    _same(stats.agent.log_returns, pv.simulate(targets, gross, C, "trf").log_returns)
    _same(stats.benchmark.log_returns, pv.simulate(pv.equal_weight_targets(2, 2), gross, C, "trf").log_returns)
    # rate / periods per year x sum_i w_i (score_i - 50) / 50: A scores +1, B -0.5
    _same(stats.esg, [0.05 * 0.5, 0.05 * -0.5])
    _same(stats.invalid, [1.0, 0.0])
    assert stats.periods_per_year == 4
    off = pv.episode_stats(targets, pv.EpisodeReference(tickers=["A", "B"], gross=gross, esg_rate=0.0,
                                                        esg_scores=np.array([100.0, 25.0])))
    _same(off.esg, [0, 0])
    _same(off.invalid, [0, 0])
    unscored = pv.episode_stats(targets, pv.EpisodeReference(tickers=["A", "B"], gross=gross, esg_rate=0.2))
    _same(unscored.esg, [0, 0])


def test_the_breakdown_reports_invalid_periods_and_the_time_span():
    ref = pv.EpisodeReference(tickers=["A"], gross=GROSS, span=(3, 9))
    out = pv.score(HALF, ref, invalid=np.array([1.0, 1.0]))
    assert out.details["invalid_periods"] == 2 and out.details["time_span"] == [3, 9]
    assert "time_span" not in pv.score(HALF, pv.EpisodeReference(tickers=["A"], gross=GROSS)).details


def test_replay_of_a_short_log_by_hand():
    ref = pv.EpisodeReference(tickers=["A"], gross=GROSS, cost_bps=100, invalid_penalty=0.5)
    out = pv.replay(['{"A": 0.5}'], ref)  # the missing second period holds the drifted book
    _same(out.targets, [[0.5, 0.5], [0.55 / 1.05, 0.5 / 1.05]])
    _same(out.invalid, [0, 0])
    assert out.problems == [[], []]
    # period 1 trades nothing: the book goes from 1.05 to 0.55 x 0.9 + 0.5
    _same(out.step_rewards, [math.log(0.995 * 1.05), math.log(0.995 / 1.05)])
    assert out.breakdown.total == pytest.approx(out.step_rewards.sum(), abs=1e-12)
    assert out.breakdown.details["invalid_periods"] == 0


def test_replay_charges_invalid_periods():
    ref = pv.EpisodeReference(tickers=["A"], gross=GROSS, cost_bps=100, invalid_penalty=0.5)
    out = pv.replay(["no idea", {"A": 2}], ref)
    _same(out.targets, [[0, 1], [1, 0]])
    _same(out.invalid, [1, 1])
    assert out.problems == [[pv.repair_weights("no idea", ["A"], np.array([0.0, 1.0]))[1][0]],
                            ["weights sum to 2 > 1; rescaled to sum to 1 with no cash"]]
    _same(out.step_rewards, [-0.5, math.log(0.99 * 0.9) - 0.5])
    assert out.breakdown.total == pytest.approx(out.step_rewards.sum(), abs=1e-12)
    assert out.breakdown.components["invalid_periods"] == -2.0


def test_replay_rejects_more_submissions_than_periods():
    ref = pv.EpisodeReference(tickers=["A"], gross=GROSS)
    assert len(pv.replay(["HOLD", "HOLD"], ref).targets) == 2
    with pytest.raises(ValueError, match="3 submissions for a 2-period window"):
        pv.replay(["HOLD"] * 3, ref)
