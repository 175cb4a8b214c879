"""Deterministic meaning-changing mutations of a Lean 4 theorem statement (critic mode's negatives).

Each mutation is one of the mistakes an autoformalizer makes (CriticLean's error classes):
``flip_relation`` (the conclusion's relation negated: ``=``/``≠``, ``≤``/``>``, ``<``/``≥``),
``change_constant`` (the conclusion's last numeral changed), ``drop_hypothesis`` (one named
hypothesis removed), ``change_type`` (``ℝ`` read as ``ℕ``, else ``ℤ``/``ℚ`` as ``ℕ``) and
``swap_quantifier`` (the first ``∀`` made ``∃`` or the reverse). A mutation that does not apply
returns None; none returns a statement equal to the original after normalisation (a test checks
this for every problem).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from arenas.verifiers.lean import normalize_statement

KINDS = ("flip_relation", "change_constant", "drop_hypothesis", "change_type", "swap_quantifier")

_NEGATE = {"=": "≠", "≠": "=", "≤": ">", ">": "≤", "<": "≥", "≥": "<"}
_RELATION = re.compile(r"(?<=\s)(=|≠|≤|≥|<|>)(?=\s)")
_NUMERAL = re.compile(r"(?<![\w.₀-₉'])(\d+)(?![\w.₀-₉])")


def split_statement(statement: str) -> tuple[str, str, str]:
    """(binders, conclusion, proof) of ``theorem name binders : conclusion := proof``: the
    conclusion starts after the last top-level colon before the top-level ``:=``."""
    depth, colon, assign = 0, -1, len(statement)
    i = 0
    while i < len(statement):
        c = statement[i]
        if c in "([{⟨":
            depth += 1
        elif c in ")]}⟩":
            depth -= 1
        elif depth == 0 and statement.startswith(":=", i):
            assign = i
            break
        elif depth == 0 and c == ":":
            colon = i
        i += 1
    if colon < 0:
        raise ValueError("no top-level ':' in the statement")
    return statement[:colon + 1], statement[colon + 1:assign], statement[assign:]


def flip_relation(statement: str) -> str | None:
    head, concl, proof = split_statement(statement)
    m = _RELATION.search(concl)
    if not m:
        return None
    concl = concl[:m.start()] + _NEGATE[m.group(1)] + concl[m.end():]
    return head + concl + proof


def change_constant(statement: str) -> str | None:
    head, concl, proof = split_statement(statement)
    found = list(_NUMERAL.finditer(concl))
    if not found:
        return None
    m = found[-1]
    value = int(m.group(1))
    new = value + 1 if value < 10 else value + 10 ** (len(m.group(1)) - 2 if len(m.group(1)) > 2 else 0) + 1
    return head + concl[:m.start()] + str(new) + concl[m.end():] + proof


def _hypothesis_spans(head: str) -> list[tuple[int, int]]:
    """Spans of top-level ``(h... : ...)`` binders of the statement head."""
    spans, depth, start = [], 0, -1
    for i, c in enumerate(head):
        if c == "(":
            if depth == 0:
                start = i
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0 and start >= 0:
                inner = head[start + 1:i]
                if re.match(r"\s*h[\w₀-₉']*\s*:", inner):
                    spans.append((start, i + 1))
    return spans


def drop_hypothesis(statement: str) -> str | None:
    head, concl, proof = split_statement(statement)
    spans = _hypothesis_spans(head)
    if not spans:
        return None
    start, end = spans[-1]
    return (head[:start].rstrip() + " " + head[end:].lstrip()) + concl + proof


def change_type(statement: str) -> str | None:
    for old in ("ℝ", "ℤ", "ℚ"):
        if old in statement:
            return statement.replace(old, "ℕ")
    return None


def swap_quantifier(statement: str) -> str | None:
    m = re.search(r"[∀∃]", statement)
    if not m:
        return None
    return statement[:m.start()] + ("∃" if m.group() == "∀" else "∀") + statement[m.end():]


MUTATIONS: dict[str, Callable[[str], str | None]] = {
    "flip_relation": flip_relation, "change_constant": change_constant, "drop_hypothesis": drop_hypothesis,
    "change_type": change_type, "swap_quantifier": swap_quantifier,
}


def mutate(statement: str, kind: str) -> str | None:
    """The statement mutated by ``kind``, or None if the mutation does not apply or changes nothing."""
    try:
        out = MUTATIONS[kind](statement)
    except ValueError:
        return None
    if out is None or normalize_statement(out) == normalize_statement(statement):
        return None
    return out


def applicable(statement: str) -> dict[str, str]:
    """Every mutation that applies: kind -> mutated statement."""
    return {k: m for k in KINDS if (m := mutate(statement, k)) is not None}


def assign(problems: list[tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """One mutation per problem (name, statement), kinds kept balanced: problems in name order
    each take the applicable kind used least so far (ties in :data:`KINDS` order)."""
    used = dict.fromkeys(KINDS, 0)
    out: dict[str, tuple[str, str]] = {}
    for name, statement in sorted(problems):
        options = applicable(statement)
        if not options:
            continue
        kind = min(options, key=lambda k: (used[k], KINDS.index(k)))
        used[kind] += 1
        out[name] = (kind, options[kind])
    return out
