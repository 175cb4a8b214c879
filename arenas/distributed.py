"""Rollouts on a Ray cluster: the same episodes, records and resume semantics as local runs.

:func:`iter_ray_rollouts` has :func:`arenas.rollout.iter_rollouts`'s signature, so
``rollout.run(..., iterate=ray_iterator(address))`` (``arenas run ... --ray``) writes the same
``episodes.jsonl`` and ``run.json``: only where episodes are played changes. Episodes run in
actors that each hold an :class:`~arenas.rollout.ArenaPool` and an agent factory (shipped with
cloudpickle, or rebuilt from the spec and options it was made from, its ``recipe``, or else from
the run's agent spec, when it cannot be pickled); jobs and trajectories
cross the cluster as the wire format (``Task.to_dict()``, ``Trajectory.to_json()``). An actor
that dies is replaced and its episode retried once on the new actor; a second death is recorded
as the episode's error. Ray is optional (``pip install 'arenas[ray]'``) and imported lazily.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any

from arenas.agent import AgentFactory
from arenas.config import ConfigError
from arenas.rollout import ArenaPool, EpisodeJob, RunConfig, play_episode
from arenas.trajectory import Trajectory
from arenas.types import Task, Termination

RETRIES = 1
"""How many times an episode whose actor died is tried again on a fresh actor."""


class EpisodeWorker:
    """A Ray actor's body: plays episodes with arenas from its own pool (several at once when
    the actor is threaded; an arena is never shared by two episodes)."""

    def __init__(self, config: dict[str, Any], factory: bytes | None,
                 recipe: tuple[str, dict[str, Any]] | None = None):
        from arenas.agent_spec import make_agent_factory
        from arenas.registry import make

        self.config = RunConfig(**config)
        if factory is not None:
            import ray.cloudpickle as cloudpickle

            self.agent_factory = cloudpickle.loads(factory)
        else:
            spec, options = recipe or (self.config.agent, self.config.agent_options)
            self.agent_factory = make_agent_factory(spec, **options)
        self.pool = ArenaPool(lambda: make(self.config.arena, **self.config.arena_config))

    def play(self, job: dict[str, Any]) -> str:
        episode = EpisodeJob(Task.from_dict(job["task"]), int(job["seed"]), int(job["rollout"]))
        arena = self.pool.acquire()
        traj = play_episode(arena, self.agent_factory, episode, self.config.agent, self.config.agent_timeout_s,
                            self.config.episode_timeout_s)
        self.pool.release(arena, broken=traj.error is not None)
        return traj.to_json()

    def pid(self) -> int:
        import os

        return os.getpid()


def _ray() -> Any:
    try:
        import ray
    except ImportError as e:
        raise ConfigError("--ray needs Ray: pip install 'arenas[ray]'") from e
    return ray


def ensure_ray(address: str | None = None, **init: Any) -> bool:
    """Connects to ``address`` (default ``$RAY_ADDRESS``) or starts a local cluster of its own
    (never one a stale ``ray start`` left on this machine); returns whether this call started it."""
    ray = _ray()
    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS") or "local"
    ray.init(address=address, include_dashboard=False, log_to_driver=False, **init)
    return True


def _shipped_factory(agent_factory: AgentFactory) -> bytes | None:
    """The factory pickled for the workers, or None when it holds what cannot travel (a client
    with open sockets, a model in memory): the workers then rebuild it from the agent spec."""
    import ray.cloudpickle as cloudpickle

    try:
        return cloudpickle.dumps(agent_factory)
    except Exception:
        return None


def iter_ray_rollouts(config: RunConfig, agent_factory: AgentFactory, jobs: list[EpisodeJob] | None = None,
                      make_arena: Callable[[], Any] | None = None, pool: ArenaPool | None = None,
                      address: str | None = None, actors: int | None = None) -> Iterator[Trajectory]:
    """Yields trajectories as episodes finish on the cluster (completion order). ``jobs`` default
    to the run's plan; ``make_arena`` and ``pool`` (local arenas) are not used: workers make their
    own arenas from ``config``. ``actors`` defaults to the cluster's CPUs, at most ``concurrency``."""
    ray = _ray()
    started = ensure_ray(address)
    try:
        if jobs is None:
            from arenas.registry import make
            from arenas.rollout import plan_jobs

            with make(config.arena, **config.arena_config) as arena:
                jobs = plan_jobs(arena, config)
        if not jobs:
            return
        cpus = int(ray.cluster_resources().get("CPU", 1))
        n_actors = max(1, min(actors or cpus, config.concurrency, len(jobs)))
        per_actor = max(1, math.ceil(config.concurrency / n_actors))
        shipped = _shipped_factory(agent_factory)
        recipe = None if shipped is not None else getattr(agent_factory, "recipe", None)
        yield from _Scheduler(ray, config, shipped, recipe, n_actors, per_actor).run(jobs)
    finally:
        if started:
            ray.shutdown()


class _Scheduler:
    """Keeps ``per_actor`` episodes in flight on each actor; replaces dead actors."""

    def __init__(self, ray: Any, config: RunConfig, factory: bytes | None, recipe: tuple[str, dict[str, Any]] | None,
                 n_actors: int, per_actor: int):
        self.ray, self.config, self.factory, self.recipe, self.per_actor = ray, config, factory, recipe, per_actor
        self.remote_class = ray.remote(num_cpus=1, max_concurrency=per_actor, max_restarts=0)(EpisodeWorker)
        self.actors = [self._new_actor() for _ in range(n_actors)]
        self.load = {id(a): 0 for a in self.actors}

    def _new_actor(self) -> Any:
        return self.remote_class.remote(asdict(self.config), self.factory, self.recipe)

    def run(self, jobs: list[EpisodeJob]) -> Iterator[Trajectory]:
        ray = self.ray
        queue = [(job, 0) for job in reversed(jobs)]
        inflight: dict[Any, tuple[EpisodeJob, int, Any]] = {}
        while queue or inflight:
            while queue:
                actor = min(self.actors, key=lambda a: self.load[id(a)])
                if self.load[id(actor)] >= self.per_actor:
                    break
                job, tries = queue.pop()
                ref = actor.play.remote({"task": job.task.to_dict(), "seed": job.seed, "rollout": job.rollout})
                inflight[ref] = (job, tries, actor)
                self.load[id(actor)] += 1
            done, _ = ray.wait(list(inflight), num_returns=1)
            ref = done[0]
            job, tries, actor = inflight.pop(ref)
            if id(actor) in self.load:
                self.load[id(actor)] -= 1
            try:
                yield Trajectory.from_dict(json.loads(ray.get(ref)))
            except ray.exceptions.RayActorError as e:
                self._replace(actor)
                if tries < RETRIES:
                    queue.append((job, tries + 1))
                else:
                    yield _error_trajectory(self.config, job, f"the worker died twice: {e}")
            except ray.exceptions.RayError as e:
                yield _error_trajectory(self.config, job, f"{type(e).__name__}: {e}")

    def _replace(self, dead: Any) -> None:
        """Swaps a dead actor for a fresh one (its other in-flight episodes fail and retry too)."""
        if dead not in self.actors:
            return
        self.actors.remove(dead)
        self.load.pop(id(dead), None)
        try:
            self.ray.kill(dead)
        except Exception:
            pass
        fresh = self._new_actor()
        self.actors.append(fresh)
        self.load[id(fresh)] = 0


def _error_trajectory(config: RunConfig, job: EpisodeJob, error: str) -> Trajectory:
    from arenas.registry import spec

    return Trajectory(arena=config.arena, arena_version=spec(config.arena).version, task_id=job.task.id, split=job.task.split, seed=job.seed,
                      rollout=job.rollout, agent=config.agent, termination=Termination.ERROR, error=error)


def ray_iterator(address: str | None = None, actors: int | None = None) -> Callable[..., Iterator[Trajectory]]:
    """An ``iterate`` for :func:`arenas.rollout.run` that plays the episodes on Ray."""
    def iterate(config: RunConfig, agent_factory: AgentFactory, jobs: list[EpisodeJob] | None = None,
                make_arena: Callable[[], Any] | None = None, pool: ArenaPool | None = None) -> Iterator[Trajectory]:
        return iter_ray_rollouts(config, agent_factory, jobs, address=address, actors=actors)
    return iterate


def check_ray_generator(generator: str, options: dict[str, Any]) -> None:
    """Ray workers reach the generator over the network: only a model server (``openai`` with a
    ``base_url``) qualifies; an in-process generator keeps its weights in the trainer's process."""
    if generator != "openai":
        raise ConfigError(f"ray_address plays episodes on Ray workers, which cannot reach the in-process "
                          f"{generator!r} generator (its weights live in the trainer's process): serve the model "
                          "(vLLM's server, arenas serve-model) and use generator='openai' with "
                          "generator_options base_url=<its URL>")
    if not options.get("base_url"):
        raise ConfigError("ray_address needs generator_options base_url: the model server's URL as the Ray "
                          "workers reach it")


class RayEpisodes:
    """A trainer's ``iterate`` on a Ray cluster: connects once (``address``: a cluster's address,
    ``auto``, or ``local`` for a cluster of its own) and plays every later call's episodes there;
    :meth:`close` shuts down a cluster it started."""

    def __init__(self, address: str):
        self.address = address
        self.started = ensure_ray(address)

    def __call__(self, config: RunConfig, agent_factory: AgentFactory, jobs: list[EpisodeJob] | None = None,
                 make_arena: Callable[[], Any] | None = None, pool: ArenaPool | None = None) -> Iterator[Trajectory]:
        return iter_ray_rollouts(config, agent_factory, jobs, address=self.address)

    def close(self) -> None:
        if self.started:
            _ray().shutdown()
            self.started = False
