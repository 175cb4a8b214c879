"""Critic mode: computed labels, the oracle critic at 1.0, an always-"correct" critic at the base rate."""

import pytest

from arenas.gui.arena import GUIArena
from arenas.gui.critic import parse_op, render_op


@pytest.fixture(scope="module")
def critic_arena():
    a = GUIArena(mode="critic", task_types="click-button,enter-text,click-checkboxes,login-user,choose-list")
    yield a
    a.close()


def test_parse_and_render_suggestions():
    tools = {"click": ["ref"], "type": ["ref", "text"]}
    assert parse_op('type(ref=3, text="abc")', tools) == {"op": "type", "ref": 3, "text": "abc"}
    assert parse_op("click(7)", tools) == {"op": "click", "ref": 7}
    assert parse_op('{"name": "click", "arguments": {"ref": 2}}', tools) == {"op": "click", "ref": 2}
    assert parse_op("rm -rf /", tools) is None and parse_op("fly(1)", tools) is None
    assert render_op({"op": "type", "ref": 3, "text": "a"}) == 'type(ref=3, text="a")'


def test_oracle_critic_scores_one_and_always_correct_scores_the_base_rate(critic_arena):
    a = critic_arena
    tasks = a.sample_tasks("test", 10, seed=3)
    oracle, always, labels = [], [], []
    for task in tasks:
        obs = a.reset(task=task)
        assert "Proposed next action:" in obs.messages[-1]["content"]
        r = a.step(a.policy("oracle")(obs))
        assert r.done and r.info["termination"] == "judged"
        oracle.append(r.reward)
        turns = [{"action": {"text": ""}, "info": r.info, "reward": r.reward}]
        assert a.rescore(task, turns).total == pytest.approx(r.reward)
        labels.append(a.critic["label"])
        if a.critic["kind"] == "oracle":
            assert a.critic["label"] == "correct"
        if a.critic["kind"] == "premature_done":
            assert a.critic["label"] == "incorrect"
        a.reset(task=task)
        always.append(a.step("<judgement>correct</judgement>").reward)
    assert oracle == [1.0] * len(tasks)
    assert sum(always) / len(always) == pytest.approx(labels.count("correct") / len(labels))
    assert "correct" in labels and "incorrect" in labels


def test_a_tool_call_answer_is_the_critic_s_own_action(critic_arena):
    a = critic_arena
    for task in a.sample_tasks("test", 30, seed=5):
        a.reset(task=task)
        if a.critic["label"] == "incorrect":
            break
    op = a.critic["oracle_op"]
    call = {"name": op["op"], "arguments": {k: v for k, v in op.items() if k != "op"}}
    import json

    r = a.step(f"<tool_call>{json.dumps(call)}</tool_call>")
    assert r.info["critic"]["candidate"]["judgement"] == "incorrect"
    assert r.info["critic"]["candidate"]["suggestion_ok"] is True and r.reward == pytest.approx(1.0)
