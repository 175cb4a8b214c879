"""The search arena end to end: conformance, gymnasium, both modes, bad input, baselines' order."""

import json

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env

import arenas
from arenas.agent_spec import make_agent_factory
from arenas.config import ConfigError
from arenas.rollout import RunConfig, run
from arenas.testing import check_arena
from arenas.types import Action, ToolCall


def call(name, **arguments):
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


@pytest.fixture(scope="module")
def arena():
    with arenas.make("search", split="test") as a:
        yield a


@pytest.fixture(scope="module")
def agent_arena():
    with arenas.make("search", split="test", mode="agent") as a:
        yield a


@pytest.mark.parametrize("mode", ["rewrite", "agent"])
def test_conformance_kit(mode):
    report = check_arena("search", {"mode": mode}, episodes=3)
    assert report["episodes"]["oracle"] and min(report["episodes"]["oracle"]) > 0.9


def test_gymnasium_check_env():
    env = gymnasium.make("arenas/search-v0")
    check_env(env.unwrapped, skip_render_check=True)
    env.close()


def test_config_is_validated():
    with pytest.raises(ConfigError, match="valid keys"):
        arenas.make("search", modee="agent")
    with pytest.raises(ValueError, match="mode must be one of"):
        arenas.make("search", mode="chat")


def _rewrite_task(arena):
    return next(t for t in arena.tasks("test") if len(t.reference["questions"]) >= 3)


BAD_REWRITES = {
    "empty": ("<rewrite></rewrite>", "empty"),
    "long": ("<rewrite>" + "x" * 50_000 + "</rewrite>", "characters"),
    "no_tags": ("just a query without tags", "exactly one <rewrite>"),
    "bad_argument": (call("rewrite", text="q"), "exactly one argument"),
    "other_tool": (call("search", query="q"), "exactly one rewrite(query) tool call"),
}


@pytest.mark.parametrize("case", sorted(BAD_REWRITES))
def test_bad_rewrites_are_feedback_and_score_zero(arena, case):
    reply, reason = BAD_REWRITES[case]
    task = _rewrite_task(arena)
    arena.reset(task=task)
    result = arena.step(reply)
    assert result.info["invalid_action"] and reason in result.info["invalid_reason"]
    assert result.info["invalid_actions"] == 1 and result.reward == 0.0 and not result.done
    assert "Invalid action" in result.observation.messages[0]["content"]
    assert "Current question" in result.observation.messages[0]["content"]  # the conversation goes on


@pytest.mark.parametrize("case", ["megabyte", "utf8"])
def test_megabyte_and_broken_unicode_rewrites_are_refused_and_rescored_alike(arena, case):
    reply = "<rewrite>" + ("x" * 1_000_000 if case == "megabyte" else "\udcff\udcfe") + "</rewrite>"
    task = _rewrite_task(arena)
    arena.reset(task=task)
    refused = arena.step(reply)
    assert refused.info["invalid_action"] and refused.reward == 0.0 and not refused.done
    gold = task.reference["questions"][0]["rewrite"]
    scored = arena.step(f"<rewrite>{gold}</rewrite>")  # the refused reply did not use up the question
    assert scored.reward > 0 and scored.info["rank"] <= 3
    turns = [{"action": Action(text=reply).to_dict()}, {"action": Action(text=f"<rewrite>{gold}</rewrite>").to_dict()}]
    n = len(task.reference["questions"])
    assert arena.rescore(task, turns).total == pytest.approx(scored.reward)
    assert arena.rescore(task, turns).details["questions"][1] == {"unanswered": True} or n == 1


def test_rewrite_tool_call_and_text_reply_score_alike(arena):
    task = _rewrite_task(arena)
    gold = task.reference["questions"][0]["rewrite"]
    arena.reset(task=task)
    a = arena.step(f"<think>resolve the pronoun</think><rewrite>{gold}</rewrite>")
    arena.reset(task=task)
    b = arena.step(Action(tool_calls=[ToolCall("rewrite", {"query": gold})]))
    assert a.reward == b.reward > 0 and not a.info["invalid_action"] and a.info["rank"] <= 3


def test_history_shows_previous_gold_answers(arena):
    task = _rewrite_task(arena)
    obs = arena.reset(task=task)
    first = obs.messages[-1]["content"]
    assert task.prompt["turns"][0]["utterance"] in first and "Current question:" in first
    result = arena.step("<rewrite>anything</rewrite>")
    q0 = next(t for t in task.prompt["turns"] if t["scored"])
    assert result.observation.messages[0]["content"].startswith(f"Answer: {q0['answer']}")


def test_format_penalty_and_required_think():
    with arenas.make("search", split="test", format_penalty=0.5, require_think=True) as a:
        task = _rewrite_task(a)
        a.reset(task=task)
        result = a.step("<rewrite>no think block</rewrite>")
        n = len(task.reference["questions"])
        assert result.info["invalid_action"] and result.reward == pytest.approx(-0.5 / n)


def test_turn_cap_settles_the_breakdown(arena):
    with arenas.make("search", split="test", max_turns=1) as a:
        task = _rewrite_task(a)
        a.reset(task=task)
        result = a.step(f"<rewrite>{task.reference['questions'][0]['rewrite']}</rewrite>")
        bd = result.info["reward_breakdown"]
        assert result.truncated and bd["total"] == pytest.approx(result.reward)
        assert {"unanswered": True} in bd["details"]["questions"]


def test_agent_tools_search_open_answer(agent_arena):
    task = _rewrite_task(agent_arena)
    ref = task.reference["questions"][0]
    agent_arena.reset(task=task)
    found = agent_arena.step(call("search", query=ref["rewrite"], k=3)).observation.messages[0]["content"]
    assert ref["gold"] in found and found.count("\n") == 2
    opened = agent_arena.step(call("open", passage_id=ref["gold"])).observation.messages[0]["content"]
    assert opened.startswith(f"[{ref['gold']}]")
    result = agent_arena.step(call("answer", passage_id=ref["gold"], text=ref["answer_span"] or "x"))
    assert result.reward == pytest.approx(1 / len(task.reference["questions"]))
    assert "Answer recorded" in result.observation.messages[0]["content"]


@pytest.mark.parametrize("bad", [call("open", passage_id="w99999.9"), call("answer", passage_id="nope", text="x"),
                                 call("search", query=""), call("search", query="\udcff")])
def test_agent_bad_ids_and_queries_are_tool_errors(agent_arena, bad):
    agent_arena.reset(task=_rewrite_task(agent_arena))
    result = agent_arena.step(bad)
    content = result.observation.messages[0]["content"]
    assert content.startswith(("error:", "Invalid action:")) and result.reward == 0.0 and not result.done


def test_baselines_are_ordered_on_the_test_split():
    means = {}
    for name in ("oracle", "heuristic", "concat", "raw", "random"):
        agent = name if name in ("oracle", "heuristic", "random") else f"policy:{name}"
        summary = run(RunConfig(arena="search", agent=agent, n=60, split="test", seed=0),
                      make_agent_factory(agent), progress=False)
        assert summary["errors"] == 0 and summary["episodes"] == 60
        means[name] = summary["mean_reward"]
    assert means["oracle"] > 0.95
    assert means["oracle"] > means["heuristic"] > means["raw"] > means["random"]
    assert means["concat"] > means["raw"] and means["raw"] < 0.35 and means["random"] < 0.05
