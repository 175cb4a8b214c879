"""Multi-question episodes: shares paid as answered sum to the final mean, unanswered score 0."""

import pytest

from arenas.conversation import Conversation
from arenas.types import RewardBreakdown


def _b(total, passed=True):
    return RewardBreakdown(total, {"correct": total, "other": 2 * total}, passed=passed)


def test_shares_sum_to_the_breakdown_and_unanswered_questions_score_zero():
    c = Conversation(["q1", "q2", "q3", "q4"], ("correct", "other"))
    paid = c.answer("a1", _b(1.0)) + c.answer("a2", _b(0.5))
    assert c.index == 2 and c.current == "q3" and not c.finished
    b = c.breakdown()
    assert paid == pytest.approx(b.total) == pytest.approx(1.5 / 4)
    assert b.components == {"correct": pytest.approx(1.5 / 4), "other": pytest.approx(3.0 / 4)}
    assert not b.passed and b.details["questions"][2] == {"unanswered": True} and b.details["answers"] == ["a1", "a2"]


def test_passed_needs_every_question_answered_and_passed():
    c = Conversation(["q1", "q2"], ("correct", "other"))
    c.answer("a", _b(1.0))
    c.answer("b", _b(1.0))
    assert c.finished and c.breakdown().passed and c.breakdown().total == 1.0
    c = Conversation(["q1", "q2"], ("correct", "other"))
    c.answer("a", _b(1.0))
    c.answer("b", _b(0.0, passed=False))
    assert not c.breakdown().passed
    with pytest.raises(RuntimeError, match="^every question of the conversation is already answered$"):
        c.answer("c", _b(1.0))
    with pytest.raises(ValueError, match="^a conversation needs at least one question$"):
        Conversation([], ("correct",))


def test_each_question_is_reported_once_with_its_own_score():
    c = Conversation(["q1", "q2", "q3"], ("correct", "other"))
    first = _b(0.5)
    c.answer("a1", first)
    details = c.breakdown().details
    assert details["questions"] == [first.to_dict(), {"unanswered": True}, {"unanswered": True}]


def test_a_component_an_answer_lacks_counts_as_zero():
    c = Conversation(["q1", "q2"], ("correct", "style"))
    c.answer("a1", RewardBreakdown(1.0, {"correct": 1.0}, passed=True))
    c.answer("a2", RewardBreakdown(0.5, {"correct": 0.5, "style": 1.0}, passed=True))
    assert c.breakdown().components == {"correct": pytest.approx(0.75), "style": pytest.approx(0.5)}
