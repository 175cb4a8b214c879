"""Baseline policies: oracle, random, and for critic mode always_correct and a heuristic critic.

The heuristic critic reads the surface of text and statement the way a careful non-expert would:
numerals in the statement that the problem never mentions, a real-valued problem stated over
``ℕ``, a ``≠`` or a strict/non-strict inequality the text does not ask for, an ``∃`` where the
text asks for all. It is the simple baseline a learned critic has to beat.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

from arenas.lean.mutations import split_statement
from arenas.types import Observation

WORD_NUMBERS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "hundred": 100}


def call(name: str, **arguments: Any) -> str:
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments}, ensure_ascii=False)}</tool_call>"


def text_numbers(text: str) -> set[int]:
    nums = {int(n) for n in re.findall(r"\d+", text.replace(",", ""))}
    nums |= {v for w, v in WORD_NUMBERS.items() if re.search(rf"\b{w}\b", text, re.I)}
    return nums


def statement_numbers(statement: str) -> set[int]:
    return {int(n) for n in re.findall(r"(?<![\w₀-₉'])\d+(?![\w₀-₉])", statement)}


def heuristic_faithful(problem: str, statement: str) -> tuple[bool, str]:
    """A surface judgement of fidelity with its reason."""
    text = problem.lower()
    try:
        _, concl, _ = split_statement(statement)
    except ValueError:
        concl = statement
    unknown = sorted(n for n in statement_numbers(concl) if n > 2 and n not in text_numbers(problem))
    if unknown:
        return False, f"the conclusion uses {unknown}, which the problem never mentions"
    if "real" in text and "ℝ" not in statement and "ℕ" in statement:
        return False, "the problem is about real numbers but the statement is over ℕ"
    if " ≠ " in concl and not re.search(r"\\neq|\\ne\b|≠|\bnot\b|n't|differ|distinct|nonzero|non-zero", text):
        return False, "the conclusion is a '≠' the problem does not ask for"
    strict_text = bool(re.search(r"(?<!\\)<(?!=)|(?<!\\)>(?!=)|\\lt\b|\\gt\b|less than|greater than|more than", text))
    weak_text = bool(re.search(r"\\leq?\b|\\geq?\b|≤|≥|at most|at least|no more|no less", text))
    strict_concl = bool(re.search(r"\s[<>]\s", concl))
    weak_concl = bool(re.search(r"\s[≤≥]\s", concl))
    if strict_concl and weak_text and not strict_text:
        return False, "the conclusion is strict but the problem's inequality is not"
    if weak_concl and strict_text and not weak_text:
        return False, "the conclusion is non-strict but the problem's inequality is strict"
    if "∃" in statement and not re.search(r"exist|there (is|are)|some|find|can be|possible", text):
        return False, "the statement claims existence the problem does not ask about"
    return True, "no surface mismatch found"


class CriticPolicy:
    """Critic mode: judges with a rule ("oracle", "always_correct", "heuristic", "random")."""

    def __init__(self, arena: Any, rule: str, seed: int = 0):
        self.arena = arena
        self.rule = rule
        self.rng = random.Random(seed)

    def __call__(self, observation: Observation) -> str:
        task = self.arena.task
        if self.rule == "oracle":
            verdict, reason = task.reference["faithful"], "the label"
        elif self.rule == "always_correct":
            verdict, reason = True, "always faithful"
        elif self.rule == "heuristic":
            verdict, reason = heuristic_faithful(task.prompt["problem"], task.prompt["statement"])
        else:
            verdict, reason = self.rng.random() < 0.5, "coin flip"
        return call("judge", faithful=verdict, reason=reason)


class SubmitPolicy:
    """Formalize/prove: submits the reference statement (oracle) or a random wrong one."""

    def __init__(self, arena: Any, rule: str, seed: int = 0):
        self.arena = arena
        self.rule = rule
        self.rng = random.Random(seed)

    def __call__(self, observation: Observation) -> str:
        task = self.arena.task
        if self.rule == "oracle":
            return call("submit_statement", statement=task.reference["statement"])
        name = task.reference["name"]
        garbage = f"theorem {name} : {self.rng.randint(0, 99)} = {self.rng.randint(100, 199)} := by\n  norm_num"
        tool = "submit_statement" if task.prompt["mode"] == "formalize" else "submit_proof"
        return call(tool, **({"statement": garbage} if tool == "submit_statement" else {"code": garbage}))
