"""Critic-mode negatives: every mutation changes the statement (after normalisation), each kind
does what it says, the choice is deterministic and balanced, and the data is complete."""

import collections

import pytest

from arenas.lean import data
from arenas.lean.mutations import KINDS, applicable, mutate, split_statement
from arenas.verifiers.lean import normalize_statement

ALL = data.load()["problems"]


def test_minif2f_is_complete_with_sources_and_licences():
    assert len(ALL) == 488
    assert collections.Counter(p["split"] for p in ALL) == {"valid": 244, "test": 244}
    assert all(p["informal"] and p["formal"].startswith(f"theorem {p['name']}") for p in ALL)
    assert all(p["formal"].rstrip().endswith(":= by sorry") for p in ALL)
    src = data.load()["source"]
    assert "MIT" in src["formal"]["licence"] and "MIT" in src["informal"]["licence"]
    sizes = {s: len(data.problems(s)) for s in ("train", "dev", "test")}
    assert sizes["test"] == 244 and sizes["train"] + sizes["dev"] == 244 and sizes["dev"] > 40
    names = [p["name"] for s in ("train", "dev", "test") for p in data.problems(s)]
    assert len(names) == len(set(names)) == 488


def test_every_mutation_of_every_problem_changes_the_statement():
    counts = collections.Counter()
    for p in ALL:
        ref = normalize_statement(p["formal"])
        options = applicable(p["formal"])
        assert options, p["name"]
        for kind, mutated in options.items():
            assert normalize_statement(mutated) != ref, (p["name"], kind)
            assert mutated != p["formal"]
            counts[kind] += 1
    assert set(counts) == set(KINDS) and min(counts.values()) >= 100


def test_whitespace_only_edits_are_no_ops_and_rejected():
    assert normalize_statement("theorem t (x : ℕ) :  x = x := by sorry") == \
        normalize_statement("theorem t\n  (x : ℕ) :\n  x = x := by sorry")


@pytest.mark.parametrize("kind,before,after", [
    ("flip_relation", "theorem t (x : ℝ) (h : x = 2) : x * 3 = 6 := by sorry", "x * 3 ≠ 6"),
    ("flip_relation", "theorem t (x : ℝ) : x ^ 2 ≥ 0 := by sorry", "x ^ 2 < 0"),
    ("change_constant", "theorem t (x : ℝ) (h : x = 2) : x * 3 = 6 := by sorry", "x * 3 = 7"),
    ("drop_hypothesis", "theorem t (x : ℝ) (h₀ : x = 2) (h₁ : 0 < x) : x * 3 = 6 := by sorry",
     "(h₀ : x = 2) : x * 3 = 6"),
    ("change_type", "theorem t (x : ℝ) (h : x = 2) : x * 3 = 6 := by sorry", "(x : ℕ)"),
    ("swap_quantifier", "theorem t : ∃ n : ℕ, n * 2 = 4 := by sorry", "∀ n : ℕ"),
])
def test_each_kind(kind, before, after):
    assert after in mutate(before, kind)


def test_inapplicable_mutations_return_none():
    assert mutate("theorem t (x : ℕ) : x = x := by sorry", "swap_quantifier") is None
    assert mutate("theorem t (x : ℕ) : x = x := by sorry", "drop_hypothesis") is None
    assert mutate("theorem t (x : ℕ) : x = x := by sorry", "change_type") is None


def test_the_conclusion_starts_after_the_last_top_level_colon():
    head, concl, proof = split_statement("theorem t (f : ℕ → ℕ) (h : ∀ x, f x = 1) : f (2 : ℕ) = 1 := by sorry")
    assert concl.strip() == "f (2 : ℕ) = 1" and proof == ":= by sorry"


def test_critic_tasks_are_balanced_deterministic_and_cover_every_kind():
    for split in ("train", "dev", "test"):
        pairs = data.critic_pairs(split)
        assert len(pairs) == len(data.problems(split))
        labels = collections.Counter(t.reference["faithful"] for pair in pairs for t in pair)
        assert labels[True] == labels[False] == len(pairs)
    kinds = collections.Counter(pair[1].reference["mutation"] for pair in data.critic_pairs("test"))
    assert set(kinds) == set(KINDS) and max(kinds.values()) - min(kinds.values()) <= 20
    ids = [t.id for pair in data.critic_pairs("test") for t in pair]
    assert len(set(ids)) == len(ids) and not any(k in i for i in ids for k in (*KINDS, "faithful"))
    data.critic_pairs.cache_clear()
    data.tasks.cache_clear()
    again = [t.to_dict() for pair in data.critic_pairs("test") for t in pair]
    assert again == [t.to_dict() for t in data.tasks("critic", "test")]
