"""Pure reward checkers: one module per domain, plus :class:`Rubric`."""

from arenas.verifiers.base import Component, RewardBreakdown, Rubric, Verdict, Verifier

__all__ = ["Component", "RewardBreakdown", "Rubric", "Verdict", "Verifier"]
