"""Critic mode (GUI-Critic-R1's pre-operative critique): judge a proposed next action before it runs.

A critic task is (task type, seed, step, kind). The oracle's own episode on (type, seed) gives the
history; at ``step`` the proposal is the oracle's next action (kind ``oracle``) or a perturbation
of it (``wrong_element``, ``wrong_text``, ``premature_done``, ``occluded_click``). Ground truth is
computed, not labelled: the proposal runs in a page replayed to the same state (same seed, same
actions), then the oracle continues from there. With ``critic_label="on_track"`` (default) the
proposal is ``correct`` when the oracle then succeeds with no more steps than it had left after
its own action (an action that must be undone, or that does nothing, is incorrect); with
``"reachable"`` when the oracle succeeds at all. A critic's suggestion is scored the same way.
"""

from __future__ import annotations

import ast
import json
import random
from typing import Any

from arenas.gui import baselines
from arenas.gui.baselines import oracle_action
from arenas.gui.page import PageGone, TaskPage
from arenas.types import Observation, Task

KINDS = ("oracle", "oracle", "wrong_element", "wrong_text", "premature_done", "occluded_click")
"""Proposal kinds drawn per task (the oracle's action twice as often as each perturbation)."""
TIMED = frozenset({"button-delay", "choose-date", "choose-date-easy", "choose-date-medium", "click-collapsible",
                   "click-collapsible-2", "click-menu", "click-menu-2", "use-autocomplete", "use-autocomplete-nodelay"})
"""Types whose oracle waits for animations or delays: a replay of them is not step-for-step
repeatable, so computed labels could differ between runs; critic mode leaves them out."""
OPS = ("click", "click_xy", "type", "press", "scroll", "select", "hover", "wait", "drag", "done")
MAX_ORACLE_STEPS = 40
VIEW = (6000, 80)


def critic_tasks(base: tuple[Task, ...]) -> tuple[Task, ...]:
    """One critic task per task of ``base``: its step and proposal kind drawn from its seed."""
    out = []
    for t in base:
        if t.prompt["task_type"] in TIMED:
            continue
        rng = random.Random(f"critic/{t.id}")
        kind = rng.choice(KINDS)
        ref = {**t.reference, "kind": kind, "step_draw": rng.random()}
        out.append(Task(id=f"critic/{t.id}", split=t.split, prompt=dict(t.prompt), reference=ref,
                        meta={**t.meta, "mode": "critic", "kind": kind}))
    return tuple(out)


def apply(page: TaskPage, op: dict[str, Any]) -> dict[str, Any] | None:
    """Runs one operation; returns the page's status after it (None when it could not run)."""
    name = op.get("op")
    if name == "done":
        return page.status()
    if name not in OPS:
        return None
    args = {k: v for k, v in op.items() if k != "op"}
    try:
        result, obs = page.act(name, args, *VIEW)
    except PageGone:
        return {"done": False, "raw_reward": 0.0, "left_page": True}
    except TypeError:  # wrong arguments for the operation
        return None
    if result.get("error"):
        return None
    return obs["status"]


def replay(page: TaskPage, task_type: str, seed: int, ops: list[dict[str, Any]]) -> dict[str, Any]:
    """Loads (type, seed) and performs ``ops``; returns the observation of the state reached.
    The oracle is consulted before each operation, as in the recorded run, so element refs and the
    oracle's memory come out the same."""
    page.reset(task_type, seed, *VIEW, fresh=True)
    for op in ops:
        oracle_action(page, task_type)
        apply(page, op)
    return page.observe(*VIEW)


def oracle_finishes(page: TaskPage, task_type: str) -> tuple[bool, list[dict[str, Any]]]:
    """Lets the oracle play on from the page's current state; (success, its operations)."""
    ops: list[dict[str, Any]] = []
    status = page.status()
    for _ in range(MAX_ORACLE_STEPS):
        if status.get("done"):
            break
        op = oracle_action(page, task_type)
        if op["op"] == "fail":
            break
        ops.append(op)
        status = apply(page, op) or page.status()
        if op["op"] == "done":
            break
    return bool(status.get("done") and float(status.get("raw_reward") or 0) > 0), ops


def moves(ops: list[dict[str, Any]]) -> int:
    """Steps that change the page (waits do not count: their number depends on timing)."""
    return sum(op.get("op") != "wait" for op in ops)


def keeps_success(page: TaskPage, task_type: str, seed: int, history: list[dict], op: dict,
                  budget: int | None = None) -> dict[str, Any]:
    """Executes ``op`` after ``history`` in a replayed page; does the oracle still succeed from
    there (within ``budget`` further steps, when given: the action must not cost extra steps)?"""
    replay(page, task_type, seed, history)
    oracle_action(page, task_type)  # the oracle's view of this step, as when the proposal was made
    status = apply(page, op)
    if status is None:
        return {"ok": False, "why": "the action could not be performed"}
    if status.get("done"):
        return {"ok": float(status.get("raw_reward") or 0) > 0, "why": "the page ended the episode"}
    if op.get("op") == "done":
        return {"ok": False, "why": "done() before the task was complete"}
    ok, rest = oracle_finishes(page, task_type)
    if not ok:
        return {"ok": False, "why": "the oracle can no longer succeed"}
    if budget is not None and moves(rest) > budget:
        return {"ok": False, "why": f"the oracle succeeds but needs {moves(rest)} more steps instead of {budget}"}
    return {"ok": True, "why": "the oracle still succeeds" + (" on its own path" if budget is not None else "")}


def perturb(kind: str, op: dict[str, Any], page_text: str, geometry: dict[str, Any] | None,
            rng: random.Random) -> tuple[str, dict[str, Any]]:
    """The proposal of ``kind`` derived from the oracle's ``op`` (falling back to another kind
    where this one does not apply)."""
    refs = [int(line.split("]")[0].split("[")[1]) for line in page_text.splitlines() if line.lstrip().startswith("[")]
    if kind == "occluded_click" and geometry and geometry.get("covered"):
        x, y = geometry["covered"]
        return kind, {"op": "click_xy", "x": x, "y": y}
    if kind in ("wrong_text", "occluded_click") and op.get("op") == "type" and op.get("text"):
        t = op["text"]
        variants = [t[:-1], t + rng.choice("xq7"), t.swapcase() if t.swapcase() != t else t + " "]
        return "wrong_text", {**op, "text": rng.choice([v for v in variants if v != t] or [t + "x"])}
    if kind == "premature_done":
        return kind, {"op": "done"}
    others = [r for r in refs if r != op.get("ref")]
    if not others:
        return "premature_done", {"op": "done"}
    target = rng.choice(others)
    if op.get("op") in ("click", "type", "hover", "select"):
        return "wrong_element", {**op, "ref": target}
    return "wrong_element", {"op": "click", "ref": target}


GEOMETRY_JS = """r => { const el = __gui.byRef(r); if (!el) return null;
  const b = el.getBoundingClientRect(); const pts = [];
  for (let fy = 0.1; fy < 1; fy += 0.2) for (let fx = 0.1; fx < 1; fx += 0.2) pts.push([b.left + fx * b.width, b.top + fy * b.height]);
  for (const [x, y] of pts) { const h = document.elementFromPoint(x, y);
    if (h && h !== el && !el.contains(h) && !h.contains(el)) return {covered: [Math.round(x), Math.round(y)]}; }
  return {covered: null}; }"""


def render_op(op: dict[str, Any]) -> str:
    """An operation as a call, e.g. ``type(ref=5, text="abc")``."""
    args = ", ".join(f"{k}={json.dumps(v)}" for k, v in op.items() if k != "op")
    return f"{op['op']}({args})"


def parse_op(text: str | None, tools: dict[str, list[str]]) -> dict[str, Any] | None:
    """A suggested action from ``click(ref=7)``, ``click(7)`` or a JSON tool call; None if unreadable."""
    if not text:
        return None
    text = text.strip().strip("`")
    if text.startswith("{"):
        try:
            obj = json.loads(text)
            return {"op": obj["name"], **obj.get("arguments", {})} if obj.get("name") in tools else None
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name) or node.func.id not in tools:
        return None
    params = tools[node.func.id]
    try:
        args = {params[i]: ast.literal_eval(a) for i, a in enumerate(node.args)}
        args.update({k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg})
    except (ValueError, IndexError, SyntaxError):
        return None
    return {"op": node.func.id, **args}


class CriticPolicy:
    """Critic-mode baselines: ``oracle`` answers the computed label (suggesting the oracle's own
    action), ``random`` a coin flip with a random click as the suggestion."""

    def __init__(self, arena: Any, name: str, seed: int):
        self.arena = arena
        self.name = name
        self.rng = random.Random(seed)

    def __call__(self, observation: Observation) -> str:
        c = self.arena.critic
        if self.name == "oracle":
            label, op = c["label"], c["oracle_op"]
        else:
            label = self.rng.choice(("correct", "incorrect"))
            refs = [int(m.group(1)) for m in baselines._REF.finditer(self.arena.last.get("page", ""))] or [1]
            op = {"op": "click", "ref": self.rng.choice(refs)}
        if label == "correct":
            return "<judgement>correct</judgement>"
        return f"<judgement>incorrect</judgement><suggestion>{render_op(op)}</suggestion>"
