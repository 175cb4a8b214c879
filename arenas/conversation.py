"""Multi-question episodes: a conversation of questions answered one after another.

Follow-up questions (SQL conversations, conversational search) share one shape: each answer is
scored when given and pays its share ``score / n`` at once as a process reward; the episode's
breakdown is the mean over all questions, unanswered ones scoring 0, so the paid shares always
sum to the final total whether the conversation ends or is cut short.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from arenas.types import RewardBreakdown


class Conversation:
    """The state of one multi-question episode: which question is current and what each
    answer scored. An arena calls :meth:`answer` and pays the returned share."""

    def __init__(self, questions: Sequence[Any], components: Sequence[str]):
        if not questions:
            raise ValueError("a conversation needs at least one question")
        self.questions = list(questions)
        self.components = tuple(components)
        self.answers: list[Any] = []
        self.scores: list[RewardBreakdown] = []

    @property
    def index(self) -> int:
        """The current question's position (0-based); ``len(questions)`` once all are answered."""
        return len(self.scores)

    @property
    def current(self) -> Any:
        return self.questions[self.index]

    @property
    def finished(self) -> bool:
        return self.index >= len(self.questions)

    def answer(self, candidate: Any, breakdown: RewardBreakdown) -> float:
        """Records the current question's answer and its score; returns the share to pay now."""
        if self.finished:
            raise RuntimeError("every question of the conversation is already answered")
        self.answers.append(candidate)
        self.scores.append(breakdown)
        return breakdown.total / len(self.questions)

    def breakdown(self) -> RewardBreakdown:
        """The episode's breakdown: component means over all questions (unanswered score 0)."""
        n = len(self.questions)
        per_question = self.scores + [None] * (n - len(self.scores))
        return RewardBreakdown(
            total=sum(b.total for b in self.scores) / n,
            components={c: sum(b.components.get(c, 0.0) for b in self.scores) / n for c in self.components},
            details={"questions": [b.to_dict() if b else {"unanswered": True} for b in per_question],
                     "answers": list(self.answers)},
            passed=self.finished and all(b.passed for b in self.scores),
        )
