"""GUI baselines: the scripted DOM oracle and a random clicker/typist, plus the preview helpers."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

from arenas.types import Observation

ORACLES_JS = (Path(__file__).parent / "oracles.js").read_text()
WORDS = ("submit", "ok", "yes", "hello", "1", "apple", "x", "Enter")


def call_text(name: str, **arguments: Any) -> str:
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


def oracle_action(page: Any, task_type: str) -> dict[str, Any]:
    """The oracle's next operation on ``page`` (``{"op": ..., ...}``; op "fail" when it has none)."""
    return page.evaluate("([js, t]) => { if (!window.__oracles) (0, eval)(js); return __oracles.step(t); }",
                         [ORACLES_JS, task_type])


def as_tool_call(op: dict[str, Any]) -> str:
    """The tool call text of an oracle operation."""
    args = {k: v for k, v in op.items() if k not in ("op", "why")}
    if op["op"] == "fail":
        return call_text("done")
    return call_text(op["op"], **args)


class OraclePolicy:
    """Solves the current task from the DOM with the task type's scripted oracle."""

    def __init__(self, arena: Any):
        self.arena = arena

    def __call__(self, observation: Observation) -> str:
        arena = self.arena
        return as_tool_call(oracle_action(arena.page, arena.task.prompt["task_type"]))


_REF = re.compile(r"^\s*\[(\d+)\] (\S+)(.*)$", re.M)


class RandomPolicy:
    """Clicks a random element of the text view (sometimes types a random word into an input,
    presses Enter or scrolls): MiniWoB's random-agent baseline, with the same action set."""

    def __init__(self, arena: Any, seed: int):
        self.arena = arena
        self.rng = random.Random(seed)

    def __call__(self, observation: Observation) -> str:
        refs = [(int(m.group(1)), m.group(2), m.group(3)) for m in _REF.finditer(self.arena.last.get("page", ""))]
        if not refs:
            return call_text("done")
        ref, tag, rest = self.rng.choice(refs)
        u = self.rng.random()
        if tag.startswith(("input", "textarea")) and "checkbox" not in rest and "radio" not in rest and u < 0.7:
            return call_text("type", ref=ref, text=self.rng.choice(WORDS))
        if tag.startswith("select") and u < 0.7:
            options = re.findall(r'"((?:[^"\\]|\\.)*)"', rest)
            if options:
                return call_text("select", ref=ref, option=self.rng.choice(options))
        if u < 0.05:
            return call_text("press", key="Enter")
        if u < 0.1:
            return call_text("scroll", ref=ref, dy=self.rng.choice((-60, 60)))
        return call_text("click", ref=ref)


_PREVIEW = re.compile(r"^\s*(\w+)\s*\(\s*(.*?)\s*\)\s*$")


def parse_preview(action: str) -> tuple[float | None, float | None, int | None] | None:
    """(x, y, ref) of a previewed action such as ``click(12)`` or ``click_xy(40, 90)``."""
    m = _PREVIEW.match(action or "")
    if not m:
        return None
    name, args = m.group(1), [a.strip().strip("'\"") for a in m.group(2).split(",") if a.strip()]
    try:
        if name == "click_xy" and len(args) == 2:
            return float(args[0]), float(args[1]), None
        if name in ("click", "type", "select", "drag", "scroll") and args:
            return None, None, int(args[0].split("=")[-1])
    except ValueError:
        return None
    return None


def render_preview(out: dict[str, Any]) -> str:
    if out.get("receiver") is None:
        return f"A click at ({out['x']}, {out['y']}) would hit nothing (outside the page)."
    lines = [f"A click at ({out['x']}, {out['y']}) would be received by [{out['receiver_ref']}] {out['receiver']}."]
    if out.get("occluded"):
        lines.append("The target element is covered there: the click would NOT reach it.")
    if out.get("receiver_disabled"):
        lines.append("That element is disabled.")
    if not out.get("inside_viewport"):
        lines.append("The point is outside the visible area.")
    if out.get("note"):
        lines.append(out["note"] + ".")
    return " ".join(lines)
