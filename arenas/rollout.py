"""The rollout engine: agent x arena x tasks x rollouts, N episodes at a time.

Each finished episode is appended to ``episodes.jsonl`` and flushed at once, so a killed run
loses nothing and ``resume`` skips finished (task, seed, rollout) keys. An episode that raises
is recorded with its error; the run goes on. Episodes run in threads: arenas are I/O- or
numpy-bound, and model backends batch the concurrent requests of many episodes.
"""

from __future__ import annotations

import json
import math
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from arenas.agent import AgentFactory, AgentStop, EpisodeContext
from arenas.arena import Arena
from arenas.baseline_agents import PolicyAgent, RandomAgent
from arenas.config import ConfigError
from arenas.progress import StatusBar
from arenas.registry import make
from arenas.runinfo import config_hash, redact, run_record
from arenas.stats import summarize
from arenas.tools import as_action
from arenas.trajectory import Trajectory, TrajectoryWriter, Turn, episode_key, read_trajectories
from arenas.types import Task, Termination, encode


@dataclass
class RunConfig:
    """Everything that defines a run (hashed into ``run.json``)."""

    arena: str
    """Registered arena id."""
    agent: str
    """Agent spec: random | oracle | heuristic | policy:<name> | python:<mod>:<Class> | openai:/vllm:/hf:..."""
    n: int = 10
    """Number of tasks (each played ``rollouts`` times)."""
    split: str = "test"
    seed: int = 0
    """Selects and orders the tasks and seeds every episode."""
    rollouts: int = 1
    """Episodes per task (G in GRPO)."""
    concurrency: int = 1
    """Episodes in flight at once."""
    arena_config: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments of ``arenas.make``."""
    agent_options: dict[str, Any] = field(default_factory=dict)
    """Options of model backends (base_url, temperature, ...)."""
    agent_timeout_s: float = 600.0
    """Longest one ``act()`` call may take (0 = no limit); past it the episode ends as
    ``agent_timeout``. The arena's built-in baseline agents are trusted and not timed."""
    episode_timeout_s: float = 3600.0
    """Longest one episode may take, agent and arena together (0 = no limit); past it the episode
    ends as ``episode_timeout`` with what was done scored."""

    def identity(self) -> dict[str, Any]:
        """The fields that decide which episodes a run contains (checked on resume)."""
        d = asdict(self)
        for volatile in ("concurrency", "n", "agent_timeout_s", "episode_timeout_s"):
            d.pop(volatile)
        return d


@dataclass
class EpisodeJob:
    task: Task
    seed: int
    rollout: int

    @property
    def key(self) -> str:
        return episode_key(self.task.id, self.seed, self.rollout)


def play_episode(arena: Arena, agent_factory: AgentFactory, job: EpisodeJob, agent_spec: str,
                 agent_timeout_s: float = 0.0, episode_timeout_s: float = 0.0) -> Trajectory:
    """Plays one episode; never raises (an exception becomes ``Trajectory.error``). An agent
    that overruns ``agent_timeout_s`` in one call, or an episode that overruns
    ``episode_timeout_s``, is ended by the arena (scored as the turn cap would score it). An
    agent that stops (:class:`AgentStop`) gets a closing turn whose action records why."""
    traj = Trajectory(arena=arena.id, arena_version=arena.version, task_id=job.task.id, split=job.task.split,
                      seed=job.seed, rollout=job.rollout, agent=agent_spec)
    start = time.perf_counter()
    agent_s = env_s = 0.0
    agent = None
    try:
        t0 = time.perf_counter()
        obs = arena.reset(task=job.task, seed=job.seed)
        env_s += time.perf_counter() - t0
        agent = agent_factory()
        traj.tools = [t.to_openai() for t in arena.tools()]
        agent.reset(EpisodeContext(arena_id=arena.id, task_id=job.task.id, split=job.task.split,
                                   seed=job.seed, rollout=job.rollout, tools=traj.tools, policy=arena.policy,
                                   action_space=arena.action_space))
        trusted = isinstance(agent, (PolicyAgent, RandomAgent)) or agent_timeout_s <= 0
        act = agent.act if trusted else _timed(agent.act, agent_timeout_s)
        while True:
            t0 = time.perf_counter()
            try:
                action = as_action(act(obs))
            except AgentStop as stop:
                result = arena.end_episode(stop.reason)
                action, stop_message = None, str(stop)
            t1 = time.perf_counter()
            if action is not None:
                result = arena.step(action)
            if not result.done and episode_timeout_s > 0 and time.perf_counter() - start > episode_timeout_s:
                closing = arena.end_episode(Termination.EPISODE_TIMEOUT)
                result.reward += closing.reward
                result.truncated, result.info = True, {**result.info, **closing.info}
            t2 = time.perf_counter()
            agent_s += t1 - t0
            env_s += t2 - t1
            traj.turns.append(Turn(index=len(traj.turns), observation=obs.messages,
                                   action=action.to_dict() if action is not None
                                   else {"text": "", "ended": True, "stop_message": stop_message},
                                   reward=float(result.reward), info=result.info,
                                   agent_s=t1 - t0, env_s=t2 - t1))
            if not math.isfinite(result.reward):
                raise ValueError(f"the arena paid a non-finite reward {result.reward!r} on turn {len(traj.turns)}")
            traj.reward += float(result.reward)
            obs = result.observation
            if result.done:
                break
        info = traj.turns[-1].info
        traj.final_observation = obs.messages
        traj.breakdown = info.get("reward_breakdown")
        traj.success = bool((traj.breakdown or {}).get("passed"))
        traj.termination = info.get("termination", "")
        traj.invalid_actions = arena.invalid_actions
    except Exception as e:
        traj.error = f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=8)}"
        traj.termination = Termination.ERROR
    if agent is not None and hasattr(agent, "episode_record"):
        try:
            record = dict(agent.episode_record() or {})  # a copy: the agent's own record is left as it was
            traj.tokens = record.pop("tokens", None)
            traj.token_counts = record.pop("token_counts", None) or {}
            traj.meta.update(record)
        except Exception as e:
            traj.meta["episode_record_error"] = repr(e)
    traj.timings = {"total_s": time.perf_counter() - start, "agent_s": agent_s, "env_s": env_s}
    return traj


def _timed(act: Callable[[Any], Any], timeout_s: float) -> Callable[[Any], Any]:
    """``act`` run in a helper thread that is waited for at most ``timeout_s``; an overrun raises
    :class:`AgentStop` (the thread is abandoned: Python cannot stop it, the episode goes on without it)."""
    def call(observation: Any) -> Any:
        box: dict[str, Any] = {}
        finished = threading.Event()

        def target() -> None:
            try:
                box["value"] = act(observation)
            except BaseException as e:  # handed to the episode's thread below
                box["error"] = e
            finally:
                finished.set()

        threading.Thread(target=target, name="agent-act", daemon=True).start()
        if not finished.wait(timeout_s):
            raise AgentStop(Termination.AGENT_TIMEOUT, f"act() did not return within {timeout_s:g} s")
        if "error" in box:
            raise box["error"]
        return box["value"]

    return call


class ArenaPool:
    """Arenas lent to episodes: one per episode in flight, reused by later episodes (and by later
    calls, for a caller such as the trainer that keeps the pool). An arena is never shared by two
    episodes at once: arenas hold connections that are not shared across threads."""

    def __init__(self, make_arena: Callable[[], Arena]):
        self.make_arena = make_arena
        self.idle: list[Arena] = []
        self.all: list[Arena] = []
        self.lock = threading.Lock()

    def acquire(self) -> Arena:
        with self.lock:
            if self.idle:
                return self.idle.pop()
        arena = self.make_arena()
        with self.lock:
            self.all.append(arena)
        return arena

    def release(self, arena: Arena, broken: bool = False) -> None:
        """Returns an arena; a broken one (its episode raised) is closed, its state not trusted."""
        if not broken:
            with self.lock:
                self.idle.append(arena)
            return
        with self.lock:
            self.all.remove(arena)
        try:
            arena.close()
        except Exception:
            pass

    def close(self) -> None:
        with self.lock:
            arenas, self.all, self.idle = self.all, [], []
        for arena in arenas:
            try:
                arena.close()
            except Exception:
                pass


def plan_jobs(arena: Arena, config: RunConfig) -> list[EpisodeJob]:
    tasks = arena.sample_tasks(config.split, config.n, config.seed)
    return [EpisodeJob(task, config.seed + i, r) for i, task in enumerate(tasks) for r in range(config.rollouts)]


def iter_rollouts(config: RunConfig, agent_factory: AgentFactory, jobs: list[EpisodeJob] | None = None,
                  make_arena: Callable[[], Arena] | None = None, pool: ArenaPool | None = None
                  ) -> Iterator[Trajectory]:
    """Yields trajectories as episodes finish (in completion order). A caller-owned ``pool`` is
    reused and left open; otherwise the arenas made here are closed at the end."""
    own = pool is None
    if pool is None:
        pool = ArenaPool(make_arena or (lambda: make(config.arena, **config.arena_config)))
    try:
        if jobs is None:
            arena = pool.acquire()
            jobs = plan_jobs(arena, config)
            pool.release(arena)

        def work(job: EpisodeJob) -> Trajectory:
            arena = pool.acquire()
            traj = play_episode(arena, agent_factory, job, config.agent, config.agent_timeout_s,
                                config.episode_timeout_s)
            pool.release(arena, broken=traj.error is not None)
            return traj

        if config.concurrency <= 1:
            for job in jobs:
                yield work(job)
            return
        with ThreadPoolExecutor(max_workers=config.concurrency, thread_name_prefix="episode") as ex:
            pending: set[Future] = set()
            queue = iter(jobs)
            for job in queue:
                pending.add(ex.submit(work, job))
                if len(pending) >= config.concurrency:
                    break
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield fut.result()
                    nxt = next(queue, None)
                    if nxt is not None:
                        pending.add(ex.submit(work, nxt))
    finally:
        if own:
            pool.close()


def validate_run(config: RunConfig, arena: Arena) -> None:
    """Fails fast, before any episode, on what would make every episode error: a split without
    tasks, a baseline the arena does not offer, counts below one."""
    for name in ("n", "rollouts", "concurrency"):
        if getattr(config, name) < 1:
            raise ConfigError(f"{name} must be at least 1, got {getattr(config, name)}")
    if config.split not in arena.splits or not arena.tasks(config.split):
        usable = [s for s in arena.splits if arena.tasks(s)]
        raise ConfigError(f"arena {arena.id!r} has no tasks in split {config.split!r}; splits: {', '.join(usable)}")
    kind, _, target = config.agent.partition(":")
    policy = config.agent if config.agent.isidentifier() and config.agent != "random" \
        else target if kind == "policy" else None
    if policy is not None and policy not in arena.policies:
        raise ConfigError(f"arena {arena.id!r} offers no {policy!r} policy; its policies: "
                          f"{', '.join(arena.policies) or 'none'} (or use --agent random)")


def run(config: RunConfig, agent_factory: AgentFactory, out: str | Path | None = None, resume: bool = False,
        progress: bool = True, iterate: Callable[..., Iterator[Trajectory]] | None = None) -> dict[str, Any]:
    """Runs the episodes of ``config``; writes ``episodes.jsonl`` and ``run.json`` under ``out``.
    Returns the summary (see :func:`arenas.stats.summarize`). ``iterate`` plays the planned jobs
    elsewhere (same signature as :func:`iter_rollouts`, e.g. on Ray). Configuration errors
    (:class:`~arenas.config.ConfigError`), an unreachable model server and a run folder in use
    raise before the first episode."""
    out_dir = Path(out) if out else None
    pool = ArenaPool(lambda: make(config.arena, **config.arena_config))
    try:
        arena = pool.acquire()
        validate_run(config, arena)
        probe = getattr(agent_factory, "probe", None)
        if probe is not None:
            probe()
        jobs = plan_jobs(arena, config)
        pool.release(arena)
        writer, previous = _open_run(out_dir, config, resume) if out_dir is not None else (None, [])
    except BaseException:
        pool.close()
        raise
    done_keys = {t.key for t in previous if t.error is None}
    jobs = [j for j in jobs if j.key not in done_keys]
    record = run_record(redact(asdict(config)))
    if out_dir is not None:
        record["identity_hash"] = config_hash(config.identity())
        _save_record(out_dir, record)
    finished: list[Trajectory] = []
    start = time.perf_counter()
    bar = _Progress(len(jobs), config, enabled=progress)
    try:
        with bar:
            for traj in (iterate or iter_rollouts)(config, agent_factory, jobs, pool=pool):
                if writer is not None:
                    traj = _write(writer, traj)
                finished.append(traj)
                bar.update(traj)
    finally:
        pool.close()
        if writer is not None:
            writer.close()
    elapsed = max(time.perf_counter() - start, 1e-9)
    summary = summarize(previous + finished, elapsed_s=elapsed)
    summary["new_episodes"] = len(finished)
    summary["episodes_per_s"] = len(finished) / elapsed
    if out_dir is not None:
        record["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
        record["summary"] = summary
        _save_record(out_dir, record)
    return summary


def _save_record(out_dir: Path, record: dict[str, Any]) -> None:
    """Writes ``run.json`` (first before any episode, so a killed run can be resumed, then with
    the summary)."""
    (out_dir / "run.json").write_text(json.dumps(encode(record), indent=2))


def _open_run(out_dir: Path, config: RunConfig, resume: bool) -> tuple[TrajectoryWriter, list[Trajectory]]:
    """Locks the run folder (a second writer is refused) and reads what a resumed run has done."""
    out_dir.mkdir(parents=True, exist_ok=True)
    episodes = out_dir / "episodes.jsonl"
    writer = TrajectoryWriter(episodes)
    try:
        if episodes.stat().st_size and not resume:
            raise FileExistsError(f"{episodes} exists: pass resume=True (--resume) or choose another --out")
        previous: list[Trajectory] = []
        if resume:
            _check_resume(out_dir / "run.json", config)
            previous = list(read_trajectories(episodes))
    except BaseException:
        writer.close()
        raise
    return writer, previous


def _write(writer: TrajectoryWriter, traj: Trajectory) -> Trajectory:
    """Writes one trajectory; a record that cannot be written becomes an error record, so one
    episode's recording failure never ends the run."""
    try:
        writer.write(traj)
        return traj
    except Exception as e:
        failed = Trajectory(arena=traj.arena, arena_version=traj.arena_version, task_id=traj.task_id,
                            split=traj.split, seed=traj.seed, rollout=traj.rollout, agent=traj.agent,
                            termination=Termination.ERROR, timings=traj.timings,
                            error=f"recording the episode failed: {type(e).__name__}: {e}")
        writer.write(failed)
        return failed


def _check_resume(run_json: Path, config: RunConfig) -> None:
    if not run_json.exists():
        return
    old = json.loads(run_json.read_text()).get("identity_hash")
    if old and old != config_hash(config.identity()):
        raise ValueError(f"cannot resume: {run_json} was written by a run with a different arena, agent, "
                         "split, seed, rollouts or configuration")


class _Progress(StatusBar):
    """Live bar: episodes, mean reward, error share, tokens/s."""

    def __init__(self, total: int, config: RunConfig, enabled: bool):
        super().__init__(f"{config.arena} · {config.agent}", total, enabled=enabled)
        self.n = self.errors = self.tokens = 0
        self.reward_sum = 0.0
        self.start = time.perf_counter()

    def update(self, traj: Trajectory) -> None:
        self.n += 1
        self.errors += traj.error is not None
        self.reward_sum += traj.reward if traj.error is None else 0.0
        self.tokens += sum((traj.token_counts or {}).values())
        if not self.enabled:
            return
        ok = self.n - self.errors
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        stats = (f"reward {self.reward_sum / ok if ok else math.nan:.3f} · "
                 f"errors {self.errors / self.n:.0%} · {self.n / elapsed:.1f} ep/s")
        if self.tokens:
            stats += f" · {self.tokens / elapsed:.0f} tok/s"
        self.advance(stats)
