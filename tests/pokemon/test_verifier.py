"""The verifiers read the outcome and HP from the server's protocol lines alone."""

from __future__ import annotations

from arenas.pokemon.battle import make_rubric
from arenas.verifiers.pokemon import battle_outcome, hp_differential, winner

LOG = [
    "|player|p1|alice|1|", "|player|p2|bob|2|", "|teamsize|p1|4", "|teamsize|p2|4",
    "|switch|p1a: Kyogre|Kyogre, L50|100/100", "|switch|p2a: Groudon|Groudon, L50|100/100",
    "|-damage|p2a: Groudon|40/100", "|-damage|p1a: Kyogre|75/100", "|faint|p2a: Groudon",
    "|win|alice",
]


def test_outcome_from_win_line():
    assert battle_outcome({"log": LOG, "username": "alice"}, {}, {}).score == 1.0
    loss = battle_outcome({"log": LOG, "username": "bob"}, {}, {})
    assert loss.score == -1.0 and not loss.passed
    assert winner(LOG[:-1]) is None
    assert battle_outcome({"log": LOG[:-1] + ["|tie"], "username": "bob"}, {}, {}).score == 0.0
    assert battle_outcome({"log": LOG, "username": "alice", "truncated": True}, {}, {}).score == 0.0
    assert not battle_outcome({"log": LOG, "username": "mallory"}, {}, {}).passed


def test_hp_differential_counts_unseen_pokemon_at_full_hp():
    v = hp_differential({"log": LOG, "username": "alice"}, {}, {"format": "gen9vgc2025regi"})
    # alice: 0.75 + 3 unseen; bob: 0 (fainted) + 3 unseen -> (3.75 - 3) / 4
    assert abs(v.score - 0.1875) < 1e-9
    assert abs(hp_differential({"log": LOG, "username": "bob"}, {}, {}).score + 0.1875) < 1e-9


def test_rubric_shaped_weight():
    plain = make_rubric(0.0).score({"log": LOG, "username": "alice"}, {}, {})
    shaped = make_rubric(0.5).score({"log": LOG, "username": "alice"}, {}, {})
    assert plain.total == 1.0 and plain.passed
    assert abs(shaped.total - (1.0 + 0.5 * 0.1875)) < 1e-9
