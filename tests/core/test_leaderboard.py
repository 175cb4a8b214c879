import arenas
from arenas.agents import make_agent_factory
from arenas.leaderboards import load_results, render_markdown
from arenas.rollout import RunConfig, run
from tests.core.guess_arena import GuessArena

arenas.register("guess", GuessArena)


def test_leaderboard_ranks_runs_from_episodes(tmp_path):
    for agent in ("oracle", "random"):
        cfg = RunConfig(arena="guess", agent=agent, n=6, split="test")
        run(cfg, make_agent_factory(agent), out=tmp_path / agent, progress=False)
    results = load_results(tmp_path)
    assert {r.agent for r in results} == {"oracle", "random"}
    md = render_markdown(results)
    lines = [line for line in md.splitlines() if line.startswith("| 1 ")]
    assert "`oracle`" in lines[0]
