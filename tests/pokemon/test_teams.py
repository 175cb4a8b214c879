"""The team pool: at least 16 diverse teams, each legal (by the server's own validator) in every
format the index lists, and the VGC-Bench protocol over them."""

from __future__ import annotations

from arenas.pokemon import server, teams
from tests.pokemon.conftest import requires_showdown


def test_pool_is_large_and_diverse():
    pool = teams.teams_for(teams.DEFAULT_FORMAT)
    assert len(pool) >= 16
    assert len({t.archetype for t in pool}) == len(pool)
    assert len([t for t in pool if not t.held_out]) >= 16
    assert teams.held_out(teams.DEFAULT_FORMAT)
    for t in pool:
        assert len(t.species) == 6 and len(set(t.species)) == 6, t.name


@requires_showdown
def test_every_team_passes_validate_team_in_its_formats():
    for fmt in (teams.DEFAULT_FORMAT, teams.REG_G_FORMAT):
        listed = teams.teams_for(fmt)
        problems = server.validate_teams([t.text for t in listed], fmt)
        assert {t.name: p for t, p in zip(listed, problems, strict=True) if p} == {}
    # the index is honest about what is not legal: two restricted Pokémon break Reg G
    unlisted = [t for t in teams.all_teams() if teams.REG_G_FORMAT not in t.formats]
    assert unlisted and all(server.validate_teams([t.text for t in unlisted], teams.REG_G_FORMAT))


@requires_showdown
def test_validate_team_command_accepts_and_rejects():
    legal = teams.team("miraidon_balance").text
    assert server.validate_team(legal, teams.DEFAULT_FORMAT) == []
    duplicate_items = legal.replace("Whimsicott @ Focus Sash", "Whimsicott @ Choice Specs")
    assert any("Item Clause" in p for p in server.validate_team(duplicate_items, teams.DEFAULT_FORMAT))


def test_team_sets_are_seeded_nested_and_never_hold_out():
    fmt = teams.DEFAULT_FORMAT
    for size in (1, 4, 16):
        a, b = teams.team_set(fmt, size, seed=3), teams.team_set(fmt, size, seed=3)
        assert [t.name for t in a] == [t.name for t in b] and len(a) == size
        assert not any(t.held_out for t in a)
    assert teams.team_set(fmt, 4, 0) != teams.team_set(fmt, 4, 1)
    pairs = teams.matchups(teams.team_set(fmt, 4), teams.team_set(fmt, 4))
    assert len(pairs) == 12 and all(a.name != b.name for a, b in pairs)
    assert len(teams.matchups(teams.team_set(fmt, 4), teams.team_set(fmt, 4), mirror=True)) == 16
