"""The team pool: at least 64 diverse teams (16 or more held out), each legal (by the server's own
validator) in every format the index lists, and the VGC-Bench protocol over them."""

from __future__ import annotations

import json

from arenas.pokemon import import_teams, server, teams
from tests.pokemon.conftest import requires_showdown


def test_pool_is_large_diverse_and_sourced():
    pool = teams.teams_for(teams.DEFAULT_FORMAT)
    assert len(pool) >= 64 and len(teams.held_out(teams.DEFAULT_FORMAT)) >= 16
    assert len([t for t in pool if not t.held_out]) >= 64
    assert len({tuple(sorted(t.species)) for t in pool}) == len(pool)  # no two teams share six species
    for t in pool:
        assert len(t.species) == 6 and len(set(t.species)) == 6, t.name
    index = json.loads((teams.TEAMS_DIR / "index.json").read_text())
    assert all(meta["source"] for meta in index.values())
    assert (teams.TEAMS_DIR / "LICENSE-VGC-Bench.txt").read_text().startswith("MIT License")
    # held out by date: no imported team from an event of March 2025 or later is trained on
    for name, meta in index.items():
        if name.startswith("vgcb_"):
            assert meta["held_out"] == any(f" {m} 2025;" in meta["source"] for m in ("March", "April")), name


def test_species_of_reads_nicknames_and_genders():
    assert teams.species_of("Blue Moon (Ogerpon-Wellspring) (F) @ Wellspring Mask") == "Ogerpon-Wellspring"
    assert teams.species_of("Amoonguss (F) @ Rocky Helmet") == "Amoonguss"
    assert teams.species_of("Indeedee-F @ Psychic Seed") == "Indeedee-F"


def test_vgc_bench_import_reads_teams_and_events():
    source = '''TEAMS = {
    "regi": [
        ### SOMEWHERE REGIONALS APRIL 2025 (1 team) ###
        """
A @ X
""",
        ### ELSEWHERE REGIONALS MAY 2024 (1 team) ###
        """
B @ Y
""",
    ],
}'''
    found = import_teams.parse(source)
    assert found == [("regi", "SOMEWHERE REGIONALS APRIL 2025", "A @ X"),
                     ("regi", "ELSEWHERE REGIONALS MAY 2024", "B @ Y")]
    newer, older = (import_teams.event_date(event) for _, event, _ in found)
    assert newer >= import_teams.HELD_OUT_FROM > older


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
    for size in (1, 4, 16, 64):
        a, b = teams.team_set(fmt, size, seed=3), teams.team_set(fmt, size, seed=3)
        assert [t.name for t in a] == [t.name for t in b] and len(a) == size
        assert not any(t.held_out for t in a)
    assert teams.team_set(fmt, 4, 0) != teams.team_set(fmt, 4, 1)
    pairs = teams.matchups(teams.team_set(fmt, 4), teams.team_set(fmt, 4))
    assert len(pairs) == 12 and all(a.name != b.name for a, b in pairs)
    assert len(teams.matchups(teams.team_set(fmt, 4), teams.team_set(fmt, 4), mirror=True)) == 16
