"""Verdicts, rubrics and reward breakdowns.

A verifier is a pure function ``(candidate, reference, context) -> Verdict``: it needs no running
arena, so the same code scores live episodes and offline data. A :class:`Rubric` combines
verifiers with weights; a verifier that raises scores 0 and its error is recorded, it never
crashes a run.
"""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from arenas.types import RewardBreakdown

Verifier = Callable[[Any, Any, Mapping[str, Any]], "Verdict"]


@dataclass(frozen=True)
class Verdict:
    """One verifier's judgement: a score, whether it counts as passed, and why."""

    score: float
    passed: bool
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def fail(cls, reason: str, **details: Any) -> Verdict:
        return cls(0.0, False, {"reason": reason, **details})


@dataclass(frozen=True)
class Component:
    name: str
    verifier: Verifier
    weight: float = 1.0


class Rubric:
    """Weighted sum of verifiers. ``passed`` is the ``passed`` of the component named by
    ``success`` (default: the first component)."""

    def __init__(self, components: list[Component], success: str | None = None):
        if not components:
            raise ValueError("a Rubric needs at least one component")
        names = [c.name for c in components]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate component names: {names}")
        self.components = components
        self.success = success or names[0]
        if self.success not in names:
            raise ValueError(f"success component {self.success!r} is not one of {names}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.components)

    def score(self, candidate: Any, reference: Any, context: Mapping[str, Any] | None = None) -> RewardBreakdown:
        context = context or {}
        scores: dict[str, float] = {}
        details: dict[str, Any] = {}
        passed = False
        total = 0.0
        for comp in self.components:
            try:
                verdict = comp.verifier(candidate, reference, context)
                score = float(verdict.score)
                if not math.isfinite(score):
                    raise ValueError(f"non-finite score {score}")
            except Exception as e:  # a broken verifier scores 0, never crashes a run
                verdict = Verdict.fail(f"verifier error: {e!r}", traceback=traceback.format_exc(limit=3))
                score = 0.0
            scores[comp.name] = score
            details[comp.name] = verdict.details
            total += comp.weight * score
            if comp.name == self.success:
                passed = verdict.passed
        return RewardBreakdown(total=total, components=scores, details=details, passed=passed)
