"""The splits draw teams as the README says: the test split plays only held-out teams (read from the
index, not from the code under test), train and dev never play one as the agent (no battles run)."""

from __future__ import annotations

import json

import pytest

from arenas.pokemon import teams
from arenas.pokemon.battle import PokemonBattleArena


def _held_out_names(fmt: str) -> set[str]:
    index = json.loads((teams.TEAMS_DIR / "index.json").read_text())
    return {name for name, meta in index.items() if meta["held_out"] and fmt in meta["formats"]}


@pytest.mark.parametrize("team_set_size", [4, 64])
def test_test_split_plays_only_held_out_teams_and_train_never_does(team_set_size):
    arena = PokemonBattleArena(split="test", team_set_size=team_set_size)
    fmt = arena.config.battle_format
    held = _held_out_names(fmt)
    assert len(held) >= 16
    test = arena.tasks("test")
    assert test and {t.prompt["team"] for t in test} == held
    assert all(t.split == "test" for t in test)
    for split in ("train", "dev"):
        tasks = arena.tasks(split)
        assert tasks and not {t.prompt["team"] for t in tasks} & held, split
    assert not {t.prompt["opponent_team"] for t in arena.tasks("train")} & held
    assert {t.prompt["opponent_team"] for t in arena.tasks("dev")} == held
