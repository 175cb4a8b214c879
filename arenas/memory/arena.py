"""MemoryArena: mallocGame over real model graphs (memory mapping as a game).

Each turn one tensor buffer of a compiled model arrives (in the fixed order of
:func:`~arenas.memory.game.buffer_order`) and the agent maps it to slow memory or to an offset of
the small fast memory. Text actions: ``slow`` or ``fast@<offset>`` (the last such phrase in the
reply counts). Structured actions (``Discrete(slots)``): 0 = slow, ``i`` >= 1 = the i-th offered
offset (best fit first); ``action_mask`` marks the offered ones.

An action that cannot be read, an offset that is not legal, or a masked slot is an invalid
action: the buffer stays in slow memory, a feedback message explains why, and the reward drops
by ``invalid_action_penalty``.

Reward: the episode's total is ``T_heuristic / T_agent - 1`` (the verifier's replay of the
action log) minus the penalties. It is paid per step as the change of ``T_heuristic / T_k``,
where ``T_k`` is the program time with the buffers decided so far and all others slow; the
first step also carries ``T_heuristic / T_all_slow - 1`` and the last step is set so that the
steps sum exactly to the verifier's total. If a turn cap (``max_turns``) ends the episode early,
the breakdown counts the undecided buffers as slow (the paid steps already sum to it).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from gymnasium import spaces

from arenas.arena import Arena, ArenaConfig, Policy
from arenas.config import ConfigError
from arenas.memory import baselines, tasks
from arenas.memory.cost import PROFILES, touching_ops
from arenas.memory.game import DEFAULT_ALIGNMENT, MALFORMED, SLOW, Game, Gaps
from arenas.memory.workloads import KINDS, load
from arenas.types import Action, Observation, RewardBreakdown, StepResult, Task, Termination
from arenas.verifiers import memory as verifier
from arenas.verifiers.base import Component, Rubric

OCCUPANCY_BINS = 32
BUFFER_FEATURES = 12
_ACTION = re.compile(r"\b(slow|fast\s*@\s*(\d[\d,_]*))\b", re.I)

SYSTEM_PROMPT = """You map the tensor buffers of a compiled ML program to memory (mallocGame).
Fast memory is small ({capacity:,} bytes) but {ratio:.0f}x faster than slow memory. Each turn one
buffer arrives; it occupies [offset, offset + size rounded up to {alignment}) of fast memory during
its live interval of ops [start, end). Two fast buffers may share addresses only if their
intervals do not overlap. An op takes max(compute time, memory time); the goal is the fastest
program. Reply with exactly one of:
  slow
  fast@<offset>     (offset in bytes, a multiple of {alignment}, with the buffer fitting)
The offered offsets are the legal left-aligned ones, best fit first; any legal offset works.
An unreadable or illegal action leaves the buffer in slow memory and costs a penalty."""


def _names(value: Any) -> Any:
    """Accepts ``"a,b"`` (from ``-c key=a,b`` on the command line) as well as a list."""
    return value.split(",") if isinstance(value, str) else value


def _integer(value: Any) -> int | None:
    """An integer action (Python or numpy, 0-d arrays included); booleans and floats are not."""
    try:
        item = np.asarray(value).item()
    except (TypeError, ValueError):
        return None
    return item if isinstance(item, int) and not isinstance(item, bool) else None


class _Now(NamedTuple):
    """What the text and structured views both need about the current buffer."""

    buffer: int
    gaps: Gaps
    a0: np.ndarray
    a1: np.ndarray
    benefit: float


@dataclass(frozen=True)
class Setup:
    """What every episode of one (workload, profile, capacity) shares."""

    touch: list[np.ndarray]
    baseline_requests: list[int]
    t_baseline: float
    problem: dict[str, Any]


@functools.lru_cache(maxsize=64)
def episode_setup(workload: str, profile: str, capacity: int, alignment: int) -> Setup:
    """The heuristic baseline and the verifier's problem data for a task (cached)."""
    wl = load(workload)
    touch = touching_ops(wl)
    plan = baselines.heuristic(Game(wl, PROFILES[profile], capacity, alignment, touch))
    raw = wl.raw["buffers"]
    problem = {"size": raw["size"], "start": raw["start"], "end": raw["end"], "def_op": raw["def_op"],
               "uses": raw["uses"], "op_flops": wl.raw["ops"]["flops"], "capacity": capacity,
               "alignment": alignment, "profile": PROFILES[profile].to_dict()}
    return Setup(touch, baselines.requests_of(plan), plan.cost.total, problem)


@dataclass
class MemoryConfig(ArenaConfig):
    max_turns: int = 1_000_000
    """Decisions per episode (one per buffer); a smaller cap truncates and scores the rest as slow."""
    slots: int = 16
    """Size of the structured action space: slow plus ``slots - 1`` offered offsets."""
    alignment: int = DEFAULT_ALIGNMENT
    """Fast-memory offsets and sizes are multiples of this many bytes."""
    invalid_action_penalty: float = 0.01
    """Reward subtracted for each unreadable or illegal action."""
    lookahead: int = 3
    """Upcoming buffers shown in the text observation."""
    workloads: list[str] | str | None = None
    """Restrict tasks to these workloads (a list or ``a,b``); each split keeps only the listed
    workloads it holds, so a list never puts training tasks into dev or test."""
    split_by: str = "workload"
    """What dev/test hold out: ``workload`` (unseen graphs), ``family`` (unseen model families:
    ResNet, UNet, Mixer, MobileNet, diffusion in test) or ``capacity`` (the tight tier)."""
    profiles: list[str] | str = field(default_factory=lambda: list(PROFILES))
    """Hardware profiles of the tasks (a list or ``a,b``)."""
    capacities: list[str] | str = field(default_factory=lambda: list(tasks.CAPACITY_FRACTIONS))
    """Fast-memory capacities as names of fractions of the peak live bytes (a list or ``a,b``)."""
    search: dict[str, Any] | None = None
    """Options of the ``search`` policy (:class:`~arenas.memory.baselines.SearchConfig` fields)."""


class MemoryArena(Arena):
    """mallocGame (see the module docstring; options in :class:`MemoryConfig`)."""

    id = "memory"
    version = 0
    description = "mallocGame: map tensor buffers of real model graphs to fast/slow memory"
    reward_components = ("speedup", "invalid_actions")
    policies = ("heuristic", "best_rule", "search", "random")
    config_class = MemoryConfig
    action_grammar = "slow | fast@<offset>   (the last such phrase in the reply counts; offset in bytes)"

    def __init__(self, **config: Any):
        super().__init__(**config)
        c = self.cfg
        workloads, profiles, capacities = (_names(v) for v in (c.workloads, c.profiles, c.capacities))
        self.slots, self.alignment, self.lookahead = c.slots, c.alignment, c.lookahead
        self.invalid_action_penalty = c.invalid_action_penalty
        self.workloads, self.profiles, self.capacities = workloads, tuple(profiles), tuple(capacities)
        if c.split_by not in tasks.SPLIT_MODES:
            raise ConfigError(f"split_by must be one of {', '.join(tasks.SPLIT_MODES)}, got {c.split_by!r}")
        self.split_by = c.split_by
        self.search_config = baselines.SearchConfig(**(c.search or {}))
        self.rubric = Rubric([Component("speedup", verifier.speedup, 1.0),
                              Component("invalid_actions", verifier.invalid_actions, self.invalid_action_penalty)],
                             success="speedup")
        self._tasks: dict[str, list[Task]] = {}
        self.action_space = spaces.Discrete(self.slots)
        self.observation_space = spaces.Dict({
            "buffer": spaces.Box(0.0, 1.0, (BUFFER_FEATURES,), np.float32),
            "slots": spaces.Box(0.0, 1.0, (self.slots - 1, 2), np.float32),
            "occupancy": spaces.Box(0.0, 1.0, (OCCUPANCY_BINS,), np.float32),
            "action_mask": spaces.Box(0, 1, (self.slots,), np.int8),
        })
        self.game: Game | None = None

    # ---- tasks and episodes ---------------------------------------------------------
    def tasks(self, split: str) -> list[Task]:
        if split not in self._tasks:
            self._tasks[split] = tasks.make_tasks(split, self.workloads, self.profiles, self.capacities,
                                                  self.split_by)
        return self._tasks[split]

    def _reset(self, task: Task) -> Observation:
        p = task.prompt
        self.setup = episode_setup(p["workload"], p["profile"], int(p["capacity_bytes"]), self.alignment)
        wl = load(p["workload"])
        self.game = Game(wl, PROFILES[p["profile"]], int(p["capacity_bytes"]), self.alignment, self.setup.touch)
        self._plans: dict[str, Game] = {}
        self._benefit_scale = float(self.game.cost.op_time.max())  # benefit feature: in units of the longest op
        g, prof = self.game, self.game.profile
        system = SYSTEM_PROMPT.format(capacity=g.capacity, ratio=prof.fast_bw / prof.slow_bw,
                                      alignment=g.alignment)
        intro = (f"Program: {wl.name} ({wl.model}), {wl.n_ops} ops, {wl.n_buffers} buffers, peak live "
                 f"{wl.peak_live_bytes:,} B. Hardware: {prof.description}. Fast memory: {g.capacity:,} B. "
                 f"All-slow time {g.cost.all_slow * 1e6:.2f} us.\n\n")
        return self._observe([{"role": "system", "content": system}], intro)

    def _step(self, action: Action) -> StepResult:
        g = self.game
        b, before = g.current, g.cost.total
        request, problem = self._parse(action)
        valid, saved = g.place(request)
        if request >= 0 and not valid:
            problem = f"fast@{request} is not legal for buffer {b} (it must be a multiple of {g.alignment} " \
                      f"and fit in a free range over ops [{g.workload.start[b]}, {g.workload.end[b]}))"
        t_base = self.setup.t_baseline
        reward = t_base / g.cost.total - t_base / before + (t_base / g.cost.all_slow - 1.0 if g.k == 1 else 0.0)
        info: dict[str, Any] = {"buffer": b, "request": request, "saved_s": saved, "time_s": g.cost.total}
        if problem:
            info.update(invalid_action=True, invalid_reason=problem)
            head = f"Invalid action: {problem}. Buffer {b} stays in slow memory."
        else:
            head = f"Buffer {b} -> " + (f"fast@{request} (saves {saved * 1e6:.3f} us)" if request >= 0 else "slow") + "."
        head += f" Program time {g.cost.total * 1e6:.2f} us."
        if not g.done:
            return StepResult(self._observe([], head + "\n\n"), reward, False, False, info)
        breakdown = self._score()
        self.finish(breakdown, Termination.COMPLETED)
        info["requests"] = list(g.requests)
        done = (f"{head}\nAll buffers placed. Speed-up over the heuristic: "
                f"{breakdown.components['speedup']:+.2%}, invalid actions: {g.invalid}.")
        return StepResult(Observation([{"role": "user", "content": done}], self._data(None)),
                          reward, True, False, info)

    def _score(self) -> RewardBreakdown:
        return self.rubric.score({"requests": list(self.game.requests)},
                                 {"baseline_requests": self.setup.baseline_requests},
                                 {"problem": self.setup.problem})

    def _on_forced_end(self) -> dict[str, Any]:
        self.finish(self._score(), Termination.MAX_TURNS)
        return {"requests": list(self.game.requests)}

    def rescore(self, task: Task, turns: list[dict[str, Any]]) -> RewardBreakdown:
        """Replays the recorded requests (the last turn's ``requests``) through the verifier."""
        p = task.prompt
        setup = episode_setup(p["workload"], p["profile"], int(p["capacity_bytes"]), self.alignment)
        return self.rubric.score({"requests": list(turns[-1]["info"]["requests"])},
                                 {"baseline_requests": setup.baseline_requests}, {"problem": setup.problem})

    # ---- actions ------------------------------------------------------------------------
    def offered(self) -> np.ndarray:
        """The offsets offered now (best fit first), at most ``slots - 1``."""
        g = self.game
        return g.gaps(g.current).start[: self.slots - 1]

    def _parse(self, action: Action) -> tuple[int, str | None]:
        """(request, problem): the requested offset or SLOW, or MALFORMED with the reason."""
        if action.structured is not None:
            i = _integer(action.structured)
            if i is None:
                return MALFORMED, f"structured action must be an integer in [0, {self.slots}), got " \
                                  f"{action.structured!r:.60}"
            offered = self.offered()
            if i == 0:
                return SLOW, None
            if 1 <= i <= len(offered):
                return int(offered[i - 1]), None
            return MALFORMED, f"action {i} is not offered (action_mask)"
        matches = _ACTION.findall(action.text or "")
        if not matches:
            return MALFORMED, "no action found; reply with 'slow' or 'fast@<offset>'"
        word, number = matches[-1]
        if word.lower() == "slow":
            return SLOW, None
        return int(re.sub(r"[,_]", "", number)), None

    # ---- observations --------------------------------------------------------------------
    def _observe(self, messages: list[dict[str, Any]], head: str) -> Observation:
        g = self.game
        b = g.current
        now = _Now(b, g.gaps(b), *g.address_ranges(g.overlapping(b)), g.cost.benefit(b))
        return Observation(messages + [{"role": "user", "content": head + self._describe(now)}], self._data(now))

    def _describe(self, now: _Now) -> str:
        g, wl, b, gaps = self.game, self.game.workload, now.buffer, now.gaps
        s, e = int(wl.start[b]), int(wl.end[b])
        names = wl.op_names
        readers = ", ".join(f"{names[o]}#{o}" for o in wl.uses[b][:4]) + (" ..." if len(wl.uses[b]) > 4 else "")
        made = f"defined by {names[wl.def_op[b]]}#{wl.def_op[b]}" if wl.def_op[b] >= 0 else "program input"
        offers = ", ".join(f"fast@{o} (gap {ge - o:,})" for o, ge in zip(gaps.start[: self.slots - 1],
                                                                       gaps.end[: self.slots - 1], strict=True))
        upcoming = "; ".join(f"#{int(n)} {wl.size[n]:,} B ops [{wl.start[n]},{wl.end[n]})"
                             for n in g.order[g.k + 1: g.k + 1 + self.lookahead]) or "none"
        return (f"Buffer {b} ({g.k + 1}/{len(g.order)}) '{wl.buffer_names[b]}', {KINDS[wl.kind[b]]}, "
                f"{wl.size[b]:,} B, live ops [{s},{e}), {made}; read by {readers or 'nothing'}.\n"
                f"Fast now would save {now.benefit * 1e6:.3f} us. Fast memory over [{s},{e}): "
                f"{len(now.a0)} buffers, up to {int((now.a1 - now.a0).sum()):,} B placed.\n"
                f"Next: {upcoming}\n"
                f"Offered: {offers or 'none (no free range fits)'}; or slow.")

    def _data(self, now: _Now | None) -> dict[str, Any]:
        """The structured view; all zeros (slow only) once the episode is over (``now`` None)."""
        g, wl, k = self.game, self.game.workload, self.slots
        mask = np.zeros(k, dtype=np.int8)
        mask[0] = 1
        slots = np.zeros((k - 1, 2), dtype=np.float32)
        feats = np.zeros(BUFFER_FEATURES, dtype=np.float32)
        occupancy = np.zeros(OCCUPANCY_BINS, dtype=np.float32)
        if now is not None:
            b, gaps, cap = now.buffer, now.gaps, float(g.capacity)
            n = min(len(gaps), k - 1)
            mask[1: n + 1] = 1
            slots[:n, 0] = gaps.start[:n] / cap
            slots[:n, 1] = (gaps.end[:n] - gaps.start[:n]) / cap
            bin_size = cap / OCCUPANCY_BINS
            lo = np.arange(OCCUPANCY_BINS) * bin_size
            a0, a1 = now.a0[:, None], now.a1[:, None]
            occupancy[:] = np.clip(np.minimum(a1, lo + bin_size) - np.maximum(a0, lo), 0, None).sum(0) / bin_size
            n_ops = float(wl.n_ops)
            feats[:] = [g.k / len(g.order), g.footprint[b] / cap, np.log2(float(wl.size[b])) / 40,
                        wl.start[b] / n_ops, wl.end[b] / n_ops, (wl.end[b] - wl.start[b]) / n_ops,
                        wl.kind[b] == 1, wl.kind[b] == 0, now.benefit / self._benefit_scale,
                        len(gaps) > 0, len(now.a0) / max(g.n_fast, 1), 1.0 - g.cost.total / g.cost.all_slow]
        return {"buffer": np.clip(feats, 0, 1), "slots": np.clip(slots, 0, 1),
                "occupancy": np.clip(occupancy, 0, 1), "action_mask": mask}

    # ---- baseline policies ------------------------------------------------------------
    def policy(self, name: str) -> Policy | None:
        """``heuristic`` (XLA-like greedy), ``best_rule`` (the fastest of the one-line priority rules
        by the cost model's own simulation), ``search`` (beam search over priority orders) and
        ``random`` (uniform over slow and the offered offsets), all for the current episode."""
        if name == "random":
            rng = np.random.default_rng(int(self.np_random.integers(2**63)))

            def random_policy(obs: Observation) -> str:
                offered = self.offered()
                i = int(rng.integers(len(offered) + 1))
                return "slow" if i == 0 else f"fast@{offered[i - 1]}"

            return random_policy
        if name not in ("heuristic", "best_rule", "search"):
            return None

        def plan_policy(obs: Observation) -> str:
            g = self.game
            plan = self._plans.get(name)
            if plan is None:
                if name == "search":
                    plan = baselines.search(g, np.random.default_rng(int(self.np_random.integers(2**63))),
                                            self.search_config)
                else:
                    plan = baselines.heuristic(g) if name == "heuristic" else baselines.best_rule(g)[1]
                self._plans[name] = plan
            offset = int(plan.offset[g.current])
            if offset >= 0 and not g.is_legal(g.current, offset):  # the episode left the plan
                self._plans.pop(name)
                return plan_policy(obs)
            return "slow" if offset < 0 else f"fast@{offset}"

        return plan_policy
