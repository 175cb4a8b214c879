import numpy as np

from arenas.leaderboards.db import AgentRow, Entry, EpisodeRow, ResultsDB
from arenas.leaderboards.ratings import bradley_terry, entry_label, ratings
from arenas.leaderboards.suites import parse_suite


def _games(agent, opponent, wins, losses, draws=0, errors=0):
    rewards = [1.0] * wins + [-1.0] * losses + [0.0] * draws + [1.0] * errors
    eps = [EpisodeRow(task_id=f"t{i}", seed=i, rollout=0, reward=r, success=r > 0, error="x" if i >= len(rewards) - errors
                      else None, invalid_actions=0, turns=1, seconds=0.0, tokens=0) for i, r in enumerate(rewards)]
    return Entry(agent=AgentRow(spec=agent), episodes=eps, arena="duel", split="test", verified=True,
                 config={"arena_config": {"opponent": opponent}})


def test_bradley_terry_recovers_known_strengths():
    truth = np.array([4.0, 2.0, 1.0])
    expected = truth[:, None] / (truth[:, None] + truth[None, :]) * 1000
    np.fill_diagonal(expected, 0)
    p = bradley_terry(expected, prior=0.0)
    assert np.allclose(p / p[2], truth / truth[2], rtol=1e-3)


def test_ratings_from_agents_against_an_opponent_pool():
    entries = [_games("strong", "random", 18, 2), _games("strong", "heuristic", 12, 8),
               _games("weak", "random", 9, 9, draws=2), _games("weak", "heuristic", 4, 16),
               _games("crashy", "random", 5, 5, errors=10)]
    rated = ratings(entries, resamples=100)
    order = [r.player for r in rated]
    assert order.index("strong") < order.index("heuristic") < order.index("weak")
    assert order.index("crashy") > order.index("weak")  # its errored games are losses
    assert all(r.lo <= r.elo <= r.hi for r in rated)
    assert abs(np.mean([r.elo for r in rated]) - 1500) < 1e-6
    assert entry_label(entries[0]) == "strong vs random" and ratings([_games("a", None, 1, 0)]) == []


def test_suite_opponents_expand_into_one_run_each():
    suite = parse_suite({"name": "duel", "version": 1, "budgets": {"max_turns": 50},
                         "arenas": {"duel": {"n": 4, "opponents": ["random", "heuristic"]}}})
    entry = suite.entry("duel")
    configs = entry.configs(suite.arena_config(entry))
    assert configs == [{"max_turns": 50, "opponent": "random"}, {"max_turns": 50, "opponent": "heuristic"}]
    run = {"arena": "duel", "split": "test", "seed": 0, "n": 4, "rollouts": 1}
    assert entry.matches({**run, "arena_config": configs[1]}, suite.arena_config(entry))
    assert not entry.matches({**run, "arena_config": {"max_turns": 50, "opponent": "max_power"}},
                             suite.arena_config(entry))


def test_a_multi_agent_board_shows_its_ladder(tmp_path):
    from arenas.leaderboards.site import publish

    db = ResultsDB("sqlite://")
    for i, e in enumerate([_games("strong", "random", 18, 2), _games("weak", "random", 6, 14)]):
        e.identity_hash = str(i)
        db.add_entry(e, e.agent.spec)
    publish(db, tmp_path)
    board = (tmp_path / "board-other_runs-duel-test.html").read_text()
    assert "Ratings (Bradley–Terry" in board and "strong vs random" in board
    assert (tmp_path / "plots" / "board-other_runs-duel-test-ratings.svg").exists()
