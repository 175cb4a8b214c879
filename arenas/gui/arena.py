"""The GUI arena: MiniWoB++ web tasks in a real headless Chromium.

Description:
    Each task is one MiniWoB++ page (from the ``miniwob`` package) seeded so that (type, seed)
    always generates the same problem. The agent reads the instruction and a compact DOM view with
    stable element refs, optionally a screenshot, and acts with real mouse and keyboard input.

Observation:
    The instruction and the page as indented lines ``[ref] tag#id.class "text" value=... states``;
    with ``screenshot=True`` a PNG of the 160x210 task area in ``Observation.images`` (element
    refs drawn on it with ``set_of_marks=True``).

Action:
    Tool calls: click, click_xy, type, press, scroll, select, hover, wait, drag, preview (pre-operative: who
    would receive a click, without doing it) and done.

Rewards:
    MiniWoB's own JavaScript reward decides: success 1 when the page ends the episode with a
    positive raw reward, else 0 (``verifiers/gui.py``).

Episode end:
    When the page ends the episode, on ``done()``, on navigation away from the task, or after
    ``max_turns``. A crashed browser is restarted and the episode raises (recorded as an error).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from arenas.arena import ToolArena, ToolError
from arenas.config import ArenaConfig
from arenas.gui import baselines, critic
from arenas.gui.page import PageGone, TaskPage
from arenas.gui.tasks import SEED_BASE, load_tasks
from arenas.tools import TOOL_CALL_FORMAT, tool
from arenas.types import Action, Observation, RewardBreakdown, StepResult, Task
from arenas.verifiers.gui import CRITIC_RUBRIC, TASK_RUBRIC, parse_critique

MAX_WAIT_MS = 3000

INSTRUCTIONS = """You operate a web page in a browser to complete the task shown to you.
The page is listed one element per line as [ref] tag#id.class "text" value=... states; use the
ref numbers with the tools. Coordinates are CSS pixels of the 160x210 task area.
Call done() when you believe the task is complete; the page itself scores the episode.
You have {max_turns} actions.
{tool_format}"""


CRITIC_INSTRUCTIONS = """You review a GUI agent's next action BEFORE it runs (pre-operative critique).
You see the task, the current page ([ref] tag#id.class "text" value=... states), the actions taken
so far and the proposed next action. Decide whether the proposed action keeps the task on track to
success. Answer <judgement>correct</judgement>, or <judgement>incorrect</judgement> followed by
<suggestion>the action to take instead, e.g. click(ref=7) or type(ref=3, text="abc")</suggestion>."""


@dataclass
class GUIConfig(ArenaConfig):
    """Configuration of the GUI arena."""

    max_turns: int = 30
    """Actions per episode; the episode is truncated (failed) after the last one."""
    task_types: str = ""
    """Comma-separated subset of the included MiniWoB task types (empty: all of the split)."""
    seeds_per_type: int = 0
    """Seeds per task type in the split (0: the split's default)."""
    screenshot: bool = False
    """Attach a PNG screenshot of the task area to every observation (for vision-language models)."""
    screenshot_scale: float = 1.0
    """Scale factor of the screenshot (1.0 is MiniWoB's 160x210)."""
    set_of_marks: bool = False
    """Draw element refs on the screenshot."""
    max_page_chars: int = 6000
    """Bound on the text view of the page; further elements are counted, not listed."""
    max_text_chars: int = 80
    """Longest text or value shown for one element."""
    max_type_chars: int = 500
    """Longest text one type() call may enter."""
    page_pool: int = 4
    """Task types kept loaded per arena, one page each: a reset on one of them regenerates the problem
    in place (milliseconds) instead of loading the task's page."""
    fresh_page: bool = False
    """Reload the task page on every reset (slower) instead of regenerating the problem in place as
    MiniWoB does; no widget state can then carry over from the previous episode of the same type."""
    mode: str = "task"
    """``task``: do the MiniWoB task. ``critic``: judge a proposed next action before it runs
    (GUI-Critic-R1), answering <judgement>correct|incorrect</judgement><suggestion>...</suggestion>."""
    critic_label: str = "on_track"
    """Critic ground truth: ``on_track`` (the oracle finishes from the resulting state without extra
    steps) or ``reachable`` (the oracle finishes at all)."""


class GUIArena(ToolArena):
    """MiniWoB++ tasks in Chromium, driven through Playwright."""

    id = "gui"
    version = 0
    description = ("MiniWoB++ web tasks in a real headless Chromium: click, type, forms, lists, tabs, "
                   "dialogs, dates and drags, with a text DOM view, optional screenshots and "
                   "MiniWoB's own reward.")
    splits = ("train", "dev", "test", "heldout")
    reward_components = TASK_RUBRIC.names
    config_class = GUIConfig
    policies = ("oracle", "random")

    def __init__(self, **config: Any):
        super().__init__(**config)
        if self.split not in SEED_BASE:
            raise ValueError(f"unknown split {self.split!r}; splits: {', '.join(SEED_BASE)}")
        if self.cfg.mode not in ("task", "critic"):
            raise ValueError(f"mode must be 'task' or 'critic', got {self.cfg.mode!r}")
        if self.cfg.critic_label not in ("on_track", "reachable"):
            raise ValueError(f"critic_label must be 'on_track' or 'reachable', got {self.cfg.critic_label!r}")
        if self.cfg.page_pool < 1:
            raise ValueError(f"page_pool must be at least 1, got {self.cfg.page_pool}")
        self.only = tuple(t.strip() for t in self.cfg.task_types.split(",") if t.strip())
        self._page: TaskPage | None = None
        self.last: dict[str, Any] = {}

    # ---- tasks ------------------------------------------------------------------------------
    def tasks(self, split: str) -> Sequence[Task]:
        base = load_tasks(split, self.only, self.cfg.seeds_per_type or None)
        return critic.critic_tasks(base) if self.cfg.mode == "critic" else base

    @property
    def page(self) -> TaskPage:
        if self._page is None:
            self._page = TaskPage(pool_size=self.cfg.page_pool)
        return self._page

    def first_observation(self, task: Task) -> Observation:
        if self.cfg.mode == "critic":
            return self._critic_observation(task)
        self.last = self.page.reset(task.prompt["task_type"], task.prompt["seed"], self.cfg.max_page_chars,
                                    self.cfg.max_text_chars, fresh=self.cfg.fresh_page)
        system = INSTRUCTIONS.format(max_turns=self.max_turns, tool_format=TOOL_CALL_FORMAT)
        return Observation([{"role": "system", "content": system},
                            {"role": "user", "content": self._page_text()}], images=self._images())

    def _page_text(self) -> str:
        return f"Task: {self.last['utterance']}\n\nPage:\n{self.last['page']}"

    def _images(self) -> list[Any]:
        if not self.cfg.screenshot:
            return []
        return [self.page.screenshot(self.cfg.screenshot_scale, self.cfg.set_of_marks)]

    def _step(self, action: Action) -> StepResult:
        if self.cfg.mode == "critic":
            return self._critic_step(action)
        result = super()._step(action)
        result.info["miniwob"] = self.last.get("status", {})
        if self._final is None:
            result.observation.messages.append({"role": "user", "content": self._page_text()})
            result.observation.images = self._images()
        return result

    # ---- tools ------------------------------------------------------------------------------
    def _do(self, op: str, **args: Any) -> str:
        try:
            result, obs = self.page.act(op, args, self.cfg.max_page_chars, self.cfg.max_text_chars)
        except PageGone as e:
            self.last = {"utterance": self.last.get("utterance", ""), "page": "", "status": {"done": False}}
            self.finish(self._breakdown(), "navigated_away")
            return f"{e}; the episode ends unsolved"
        if result.get("error"):
            raise ToolError(result["error"])
        self.last = obs
        if obs["status"]["done"]:
            self.finish(self._breakdown(), "page_done")
            ok = obs["status"]["raw_reward"] > 0
            return f"The page ended the episode: {'success' if ok else 'failure'}."
        return f"ok: {op} on {result['desc']}" if result.get("desc") else f"ok: {op}"

    @tool
    def click(self, ref: int) -> str:
        """Click the centre of an element (a real mouse click; scrolls it into view first).

        Args:
            ref: the element's ref number from the page view
        """
        return self._do("click", ref=ref)

    @tool
    def click_xy(self, x: float, y: float) -> str:
        """Click at a point of the page.

        Args:
            x: pixels from the left edge
            y: pixels from the top edge
        """
        return self._do("click_xy", x=x, y=y)

    @tool
    def type(self, ref: int, text: str) -> str:
        """Click an element to focus it, then type text with the keyboard.

        Args:
            ref: the input's ref number
            text: the text to type
        """
        if len(text) > self.cfg.max_type_chars:
            raise ToolError(f"text too long: {len(text)} characters (at most {self.cfg.max_type_chars})")
        return self._do("type", ref=ref, text=text)

    @tool
    def press(self, key: str) -> str:
        """Press a key or a chord on the focused element, e.g. Enter, Tab, ArrowDown, Control+A.

        Args:
            key: the key name
        """
        return self._do("press", key=key)

    @tool
    def scroll(self, ref: int, dy: float) -> str:
        """Scroll the scrollable area containing an element (or the page) vertically.

        Args:
            ref: an element inside the area to scroll
            dy: pixels to scroll, positive downwards
        """
        return self._do("scroll", ref=ref, dy=dy)

    @tool
    def select(self, ref: int, option: str) -> str:
        """Choose an option of a select box by its text (in a multiple-choice list: add it to the selection).

        Args:
            ref: the select box's ref
            option: the option's text
        """
        return self._do("select", ref=ref, option=option)

    @tool
    def wait(self, ms: int) -> str:
        """Wait for the page (animations, delayed content), then look again.

        Args:
            ms: milliseconds to wait (at most 3000)
        """
        if not 0 <= ms <= MAX_WAIT_MS:
            raise ToolError(f"ms must be between 0 and {MAX_WAIT_MS}")
        return self._do("wait", ms=ms)

    @tool
    def hover(self, ref: int) -> str:
        """Move the mouse over an element (opens hover menus) without clicking.

        Args:
            ref: the element's ref number
        """
        return self._do("hover", ref=ref)

    @tool
    def drag(self, ref: int, to_ref: int, dx: float = 0.0, dy: float = 0.0) -> str:
        """Drag an element with the mouse and drop it on another element.

        Args:
            ref: the element to drag
            to_ref: the element to drop it on
            dx: horizontal offset of the drop point from the target's centre, in pixels
            dy: vertical offset of the drop point from the target's centre, in pixels
        """
        return self._do("drag", ref=ref, to_ref=to_ref, dx=dx, dy=dy)

    @tool
    def preview(self, action: str) -> str:
        """Before acting: report which element would receive a click, without doing it.

        Args:
            action: "click(<ref>)" or "click_xy(<x>, <y>)" (type/select/drag previews check their first ref)
        """
        args = baselines.parse_preview(action)
        if args is None:
            raise ToolError('preview takes an action like "click(12)" or "click_xy(40, 90)"')
        out = self.page.preview(*args)
        if out.get("error"):
            raise ToolError(out["error"])
        return baselines.render_preview(out)

    @tool(name="done")
    def declare_done(self) -> str:
        """Declare the task finished; the page's own reward decides the outcome."""
        self.last["status"] = self.page.status()
        self.finish(self._breakdown(), "done")
        return "Episode finished."

    # ---- scoring ----------------------------------------------------------------------------
    def _breakdown(self) -> RewardBreakdown:
        return TASK_RUBRIC.score(self.last.get("status", {}), self.task.reference, {})

    def _on_forced_end(self) -> dict[str, Any]:
        self.finish(self._breakdown(), "max_turns")
        return {}

    def rescore(self, task: Task, turns: list[dict]) -> RewardBreakdown:
        if self.cfg.mode == "critic":
            info = turns[-1]["info"].get("critic", {}) if turns else {}
            return CRITIC_RUBRIC.score(info.get("candidate", {}), {"label": info.get("label", "correct")}, {})
        status = turns[-1]["info"].get("miniwob", {}) if turns else {}
        return TASK_RUBRIC.score(status, task.reference, {})

    # ---- critic mode --------------------------------------------------------------------------
    def _critic_observation(self, task: Task) -> Observation:
        ref = task.reference
        t, seed = ref["task_type"], ref["seed"]
        critic.replay(self.page, t, seed, [])
        _, ops = critic.oracle_finishes(self.page, t)
        ops = ops or [{"op": "done"}]
        k = min(int(ref["step_draw"] * len(ops)), len(ops) - 1)
        history, oracle_op = ops[:k], ops[k]
        self.last = critic.replay(self.page, t, seed, history)
        geometry = self.page.evaluate(critic.GEOMETRY_JS, oracle_op["ref"]) if "ref" in oracle_op else None
        kind, proposal = ("oracle", oracle_op) if ref["kind"] == "oracle" else critic.perturb(
            ref["kind"], oracle_op, self.last["page"], geometry, random.Random(task.id))
        budget = critic.moves(ops[k + 1:]) if self.cfg.critic_label == "on_track" else None
        verdict = critic.keeps_success(self.page, t, seed, history, proposal, budget)
        self.critic = {"history": history, "proposal": proposal, "kind": kind, "oracle_op": oracle_op, "budget": budget,
                       "label": "correct" if verdict["ok"] else "incorrect", "why": verdict["why"]}
        self.last = critic.replay(self.page, t, seed, history)
        target = f" (on {self._describe(proposal['ref'])})" if "ref" in proposal else ""
        lines = [f"{i + 1}. {critic.render_op(op)}" for i, op in enumerate(history)] or ["(none yet)"]
        user = (f"{self._page_text()}\n\nActions so far:\n" + "\n".join(lines)
                + f"\n\nProposed next action: {critic.render_op(proposal)}{target}")
        return Observation([{"role": "system", "content": CRITIC_INSTRUCTIONS},
                            {"role": "user", "content": user}], images=self._images())

    def _describe(self, ref: int) -> str:
        return self.page.evaluate("r => { const el = __gui.byRef(r); return el ? '[' + r + '] ' + "
                                  "__gui.describe(el, 40) : 'no element [' + r + ']'; }", ref)

    def _tool_params(self) -> dict[str, list[str]]:
        return {t.name: list(t.parameters.get("properties", {})) for t in self.tools()}

    def _critic_step(self, action: Action) -> StepResult:
        said = parse_critique(action.text)
        op = critic.parse_op(said["suggestion"], self._tool_params())
        if action.tool_calls and said["judgement"] is None:
            call = action.tool_calls[0]
            op = {"op": call.name, **call.arguments}
            said["suggestion"] = critic.render_op(op)
            said["judgement"] = "correct" if op == self.critic["proposal"] else "incorrect"
        candidate: dict[str, Any] = dict(said)
        if said["judgement"] == "incorrect" and self.critic["label"] == "incorrect":
            t, seed = self.task.reference["task_type"], self.task.reference["seed"]
            replay = critic.keeps_success(self.page, t, seed, self.critic["history"], op, self.critic["budget"]) \
                if op else \
                {"ok": False, "why": "no readable suggestion"}
            candidate.update(suggestion_ok=replay["ok"], suggestion_replay=replay["why"])
        self.finish(CRITIC_RUBRIC.score(candidate, {"label": self.critic["label"]}, {}), "judged")
        info = {"invalid_action": False, "critic": {"candidate": candidate, "label": self.critic["label"],
                                                    "kind": self.critic["kind"], "why": self.critic["why"]}}
        return StepResult(Observation([{"role": "user", "content": "Judgement recorded."}]), 0.0, False, False, info)

    # ---- baselines --------------------------------------------------------------------------
    def policy(self, name: str):
        if self.cfg.mode == "critic":
            return critic.CriticPolicy(self, name, seed=int(self.np_random.integers(2**31)))
        if name == "oracle":
            return baselines.OraclePolicy(self)
        if name == "random":
            return baselines.RandomPolicy(self, seed=int(self.np_random.integers(2**31)))
        return None

    def close(self) -> None:
        if self._page is not None:
            self._page.close()
            self._page = None
