"""The conformance kit: ``check_arena(id)`` is what every arena passes, built-in or third-party.

    from arenas.testing import check_arena
    def test_my_arena():
        check_arena("my_arena")

It checks the contract from outside, as a user would meet it: tasks are deterministic; malformed
actions (a shared fuzz corpus) come back as feedback and never raise; the oracle, where there is
one, passes; every episode's step rewards sum to its final breakdown (cut short by the turn cap
too); the arena's ``rescore`` recomputes that breakdown from the recorded episode alone after a
trip through the wire format; the Gymnasium checker accepts every view. Failures raise
:class:`ConformanceError` naming the check.
"""

from __future__ import annotations

import json
import math
from typing import Any

from arenas.arena import Arena
from arenas.registry import make
from arenas.types import Action, StepResult, Task, ToolCall, decode, encode

#: Actions no arena may raise on: empty, huge, deeply nested, non-finite, oddly typed, broken Unicode.
FUZZ_ACTIONS: list[Any] = [
    "",
    "   ",
    "x" * 200_000,
    "<tool_call>{not json}</tool_call>",
    "<tool_call>" + "[" * 1000 + "]" * 1000 + "</tool_call>",
    '<tool_call>{"name": "submit", "arguments": ' + "{\"a\": " * 1000 + "1" + "}" * 1000 + "}</tool_call>",
    '<tool_call>{"name": "x", "arguments": {"v": ' + "9" * 5000 + "}}</tool_call>",
    "<tool_call>{\"name\": \"no_such_tool\", \"arguments\": {}}</tool_call>",
    "\ud800 lone surrogate",
    "inf",
    "NaN",
    {"content": 5},
    {"role": "assistant", "content": None, "tool_calls": "not a list"},
    {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": 7, "arguments": "{}"}}]},
    Action(text="", tool_calls=[ToolCall("no_such_tool", {"x": float("nan")})]),
    Action(structured=float("inf")),
    Action(structured=float("nan")),
    Action(structured=1.7),
    Action(structured=True),
    Action(structured=complex(1, 2)),
    Action(structured="not a number"),
    Action(structured=[[1, 2], [3]]),
]


class ConformanceError(AssertionError):
    """An arena broke a rule of the contract; the message names the check."""


def check_arena(arena_id: str, config: dict[str, Any] | None = None, episodes: int = 3, seed: int = 0,
                split: str | None = None) -> dict[str, Any]:
    """Runs every check on ``arena_id`` made with ``config``; returns what was measured."""
    config = dict(config or {})
    report: dict[str, Any] = {"arena": arena_id}
    with make(arena_id, **config) as arena:
        split = split or _first_split_with_tasks(arena)
        report["split"] = split
        check_deterministic_tasks(arena_id, config, split, seed)
        check_malformed_actions(arena, split, seed)
        report["episodes"] = check_episodes(arena, split, episodes, seed)
    check_forced_end(arena_id, config, split, seed)
    report["gym_views"] = check_gymnasium(arena_id, config)
    return report


def _first_split_with_tasks(arena: Arena) -> str:
    for split in arena.splits:
        if arena.tasks(split):
            return split
    raise ConformanceError(f"{arena.id}: no split has tasks")


def _fail(check: str, message: str) -> ConformanceError:
    return ConformanceError(f"[{check}] {message}")


def check_deterministic_tasks(arena_id: str, config: dict[str, Any], split: str, seed: int) -> None:
    """Two fresh arenas list the same tasks and sample the same ones for a seed."""
    with make(arena_id, **config) as a, make(arena_id, **config) as b:
        ta, tb = a.tasks(split), b.tasks(split)
        if [t.id for t in ta] != [t.id for t in tb]:
            raise _fail("deterministic tasks", f"{arena_id}: task ids differ between two instances")
        for x, y in zip(ta[:20], tb[:20], strict=False):
            if json.dumps(x.to_dict(), sort_keys=True) != json.dumps(y.to_dict(), sort_keys=True):
                raise _fail("deterministic tasks", f"{arena_id}: task {x.id} differs between two instances")
        if len({t.id for t in ta}) != len(ta):
            raise _fail("deterministic tasks", f"{arena_id}: duplicate task ids in split {split!r}")
        if [t.id for t in a.sample_tasks(split, 5, seed)] != [t.id for t in b.sample_tasks(split, 5, seed)]:
            raise _fail("deterministic tasks", f"{arena_id}: sample_tasks differs for the same seed")


def check_malformed_actions(arena: Arena, split: str, seed: int) -> None:
    """Each fuzz action, sent as the first action of an episode, comes back as feedback."""
    task = arena.sample_tasks(split, 1, seed)[0]
    for action in FUZZ_ACTIONS:
        arena.reset(task=task, seed=seed)
        try:
            result = arena.step(action)
        except Exception as e:
            raise _fail("malformed actions", f"{arena.id}: step({_show(action)}) raised {type(e).__name__}: {e}") \
                from e
        if not (result.info.get("invalid_action") or result.done):
            raise _fail("malformed actions", f"{arena.id}: step({_show(action)}) was accepted as a valid action")
        if not math.isfinite(result.reward):
            raise _fail("malformed actions", f"{arena.id}: step({_show(action)}) paid a non-finite reward")
        _wire_round_trip(result)


def _show(action: Any) -> str:
    return repr(action)[:60] + ("..." if len(repr(action)) > 60 else "")


def check_episodes(arena: Arena, split: str, episodes: int, seed: int) -> dict[str, Any]:
    """Plays the oracle (which must pass) and the random policy; every episode's rewards must sum
    to its breakdown, which ``rescore`` must recompute from the recorded episode."""
    played: dict[str, list[float]] = {}
    for name in ("oracle", "random"):
        if name not in arena.policies:
            continue
        for task in arena.sample_tasks(split, episodes, seed):
            total, breakdown = _play_checked(arena, task, seed, name)
            played.setdefault(name, []).append(total)
            if name == "oracle" and not breakdown["passed"]:
                raise _fail("oracle", f"{arena.id}: the oracle failed task {task.id}: {breakdown['components']}")
    return played


def _play_checked(arena: Arena, task: Task, seed: int, policy_name: str,
                  max_steps: int = 100_000) -> tuple[float, dict[str, Any]]:
    obs = arena.reset(task=task, seed=seed)
    policy = arena.policy(policy_name)
    if policy is None:
        raise _fail("policies", f"{arena.id}: policy {policy_name!r} is listed in policies but policy() "
                                "returned None")
    turns, total = [], 0.0
    for _ in range(max_steps):
        action = Action.from_dict(json.loads(json.dumps(_as_action(policy(obs)).to_dict())))
        result = arena.step(action)
        _wire_round_trip(result)
        turns.append(json.loads(json.dumps({"action": action.to_dict(), "info": encode(result.info),
                                            "reward": encode(result.reward)})))
        total += result.reward
        obs = result.observation
        if result.done:
            break
    else:
        raise _fail("episodes", f"{arena.id}: {policy_name} did not finish task {task.id} in {max_steps} steps")
    _check_settled(arena, task, turns, total, policy_name)
    return total, decode(turns[-1]["info"])["reward_breakdown"]


def _as_action(value: Any) -> Action:
    from arenas.tools import as_action

    return as_action(value)


def _check_settled(arena: Arena, task: Task, turns: list[dict[str, Any]], total: float, who: str) -> None:
    info = decode(turns[-1]["info"])
    breakdown = info.get("reward_breakdown")
    if breakdown is None:
        raise _fail("rewards", f"{arena.id}: the last step of {who} on {task.id} has no reward_breakdown")
    if not math.isclose(total, breakdown["total"], rel_tol=1e-9, abs_tol=1e-9):
        raise _fail("rewards", f"{arena.id}: {who} on {task.id}: step rewards sum to {total!r} but the breakdown "
                               f"total is {breakdown['total']!r}")
    try:
        rescored = arena.rescore(task, [{**t, "info": decode(t["info"])} for t in turns])
    except NotImplementedError as e:
        raise _fail("rescore", str(e)) from e
    if not math.isclose(rescored.total, breakdown["total"], rel_tol=1e-9, abs_tol=1e-9):
        raise _fail("rescore", f"{arena.id}: {who} on {task.id}: rescored {rescored.total!r} from the record, "
                               f"live {breakdown['total']!r}")


def check_forced_end(arena_id: str, config: dict[str, Any], split: str, seed: int) -> None:
    """A turn cap of 2 ends the episode with a breakdown the step rewards sum to."""
    with make(arena_id, **{**config, "max_turns": 2}) as arena:
        name = next((p for p in ("random", "oracle") if p in arena.policies), None)
        if name is None:
            return
        task = arena.sample_tasks(split, 1, seed)[0]
        _play_checked(arena, task, seed, name, max_steps=2)


def _wire_round_trip(result: StepResult) -> None:
    back = StepResult.from_dict(json.loads(json.dumps(result.to_dict(), allow_nan=False)))
    if back.observation.messages != result.observation.messages:
        raise _fail("wire format", "observation messages changed in a to_dict/from_dict round trip")
    if _canon(back.observation.data) != _canon(result.observation.data):
        raise _fail("wire format", "observation data changed in a to_dict/from_dict round trip")
    if back.observation.images != [bytes(i) for i in result.observation.images]:
        raise _fail("wire format", "observation images changed in a to_dict/from_dict round trip")


def _canon(value: Any) -> str:
    return json.dumps(encode(value), sort_keys=True)


def check_gymnasium(arena_id: str, config: dict[str, Any]) -> list[str]:
    """Gymnasium's own ``check_env`` on the text view and, where offered, the structured view."""
    import gymnasium
    from gymnasium.utils.env_checker import check_env

    from arenas.registry import spec

    views = ["text"]
    env = gymnasium.make(spec(arena_id).gym_id, **config)
    try:
        check_env(env.unwrapped, skip_render_check=True)
        if env.unwrapped.arena.action_space is not None:
            views.append("structured")
    finally:
        env.close()
    if "structured" in views:
        env = gymnasium.make(spec(arena_id).gym_id, view="structured", **config)
        try:
            check_env(env.unwrapped, skip_render_check=True)
        finally:
            env.close()
    return views
