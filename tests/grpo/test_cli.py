"""``arenas train`` option parsing: weighted arena mixes and per-arena options."""

from arenas.agents.grpo.cli import parse_arenas


def test_weighted_mix_with_shared_and_per_arena_options():
    mixes = parse_arenas(["memory:0.7", "sql:0.3"], "train",
                         {"max_turns": 4, "memory.workloads": "mlp_small", "sql.show_schema": False})
    assert [(m["arena"], m["weight"]) for m in mixes] == [("memory", 0.7), ("sql", 0.3)]
    assert mixes[0]["config"] == {"max_turns": 4, "workloads": "mlp_small"}
    assert mixes[1]["config"] == {"max_turns": 4, "show_schema": False}


def test_plain_arena_has_weight_one():
    assert parse_arenas(["memory"], "dev", {})[0] == {"arena": "memory", "weight": 1.0, "split": "dev", "config": {}}
