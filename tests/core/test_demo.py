"""`arenas demo`: each arena's manifest names its demo; failures are reported, not fatal."""

from arenas import registry
from arenas.demo import demo_runs, format_rows, run_demo


def test_every_built_in_arena_has_a_demo_with_known_policies():
    import arenas

    for path in registry.builtin_manifests():
        spec = registry.read_manifest(path)
        runs = demo_runs(spec)
        assert runs, f"{spec.id} has no [demo] table"
        with arenas.make(spec.id, **runs[0].arena_config) as arena:
            for run in runs:
                assert run.agent == "random" or run.agent in arena.policies, (spec.id, run.agent)


def test_demo_runs_and_reports_a_failing_arena(tmp_path):
    registry.add(registry.ArenaSpec("demo_broken", "no.such.module:Arena",
                                    demo={"agents": ["random"], "n": 2}))
    try:
        rows = run_demo(tmp_path, ["memory", "demo_broken"], progress=False)
    finally:
        registry._REGISTRY.pop("demo_broken")
    by = {(r["arena"], r["agent"]): r for r in rows}
    assert by[("memory", "heuristic")]["errors"] == 0 and by[("memory", "heuristic")]["episodes"] == 8
    assert "could not be imported" in by[("demo_broken", "random")]["failed"]
    assert (tmp_path / "memory-heuristic" / "episodes.jsonl").exists()
    assert [row[0] for row in format_rows(rows)] == ["demo_broken", "memory", "memory"] or \
        {row[0] for row in format_rows(rows)} == {"demo_broken", "memory"}
