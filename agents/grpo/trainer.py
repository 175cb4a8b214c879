"""The GRPO loop: generate G episodes per task, score them by the arenas' rubrics, compute
group-relative advantages, update the policy on the agent's tokens, push the weights to the
generator, log, checkpoint.

Data flow: generator (the LLM agent's backend) -> rollout engine -> arena -> verifier ->
:class:`~arenas.trajectory.Trajectory` -> this trainer. The trainer reads trajectories only.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from arenas.agents.grpo.async_rollouts import Prefetcher, RolloutBatch, require_sampler_logprobs
from arenas.agents.grpo.batch import build_samples
from arenas.agents.grpo.config import ArenaMix, GRPOConfig
from arenas.agents.grpo.data_parallel import DataParallel
from arenas.agents.grpo.generation import Generator, make_generator
from arenas.agents.grpo.learner import Learner, is_peft, load_policy
from arenas.agents.grpo.metrics import MetricsLogger, episode_metrics, plot_learning_curve
from arenas.config import ConfigError
from arenas.distributed import RayEpisodes
from arenas.progress import StatusBar
from arenas.registry import make
from arenas.rollout import ArenaPool, EpisodeJob, RunConfig, iter_rollouts
from arenas.trajectory import Trajectory
from arenas.types import Task

log = logging.getLogger("arenas.grpo")


class GRPOTrainer:
    """Trains ``config.model`` on ``config.arenas``; :meth:`train` runs the whole loop."""

    def __init__(self, config: GRPOConfig, generator: Generator | None = None):
        if not config.arenas:
            raise ValueError("GRPOConfig.arenas is empty: name at least one arena to train on")
        self.config = config
        self.out = Path(config.out)
        self.out.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(config.seed)
        self.dp = DataParallel.from_env(config.device)
        """This process's rank under ``torchrun`` (a world of one otherwise); see :mod:`.data_parallel`."""
        self.device = self.dp.device
        self.model, self.tokenizer = load_policy(config.model, self.device, config)
        self._arenas = {mix.arena: make(mix.arena, **mix.config) for mix in config.arenas}
        if config.eval_tasks:
            self._check_held_out()
        turns = max(int(getattr(a, "max_turns", 1) or 1) for a in self._arenas.values())
        pad = getattr(self.tokenizer, "pad_token_id", None)
        self.learner = Learner(self.model, config, self.device, pad_id=pad if pad is not None else 0,
                               generation_budget=config.generation_budget(turns), data_parallel=self.dp)
        self.generator = generator or make_generator(config, self.model, self.tokenizer)
        # arenas lent to episodes, kept across steps (an SQL or Showdown arena is costly to make)
        self._pools = {mix.arena: ArenaPool(lambda m=mix: make(m.arena, **m.config)) for mix in config.arenas}
        self.step = 0
        self.dead_steps = 0
        """Consecutive steps without any group of unequal rewards."""
        self.stopped: str | None = None
        self.version = 0
        """Updates applied to the policy (its version); batches log the version that played them."""
        self._generator_version = 0
        """The version whose weights the generator holds."""
        if config.async_rollouts and self.dp.enabled:
            raise ConfigError("async_rollouts runs with a single process only (its background generation "
                              "would interleave collectives with the learner's)")
        self.updates = 0
        """Updates this process has applied (steps with a learning signal)."""
        self._prefetch = Prefetcher() if config.async_rollouts else None
        """The next step's batch, generated during this step's update (``async_rollouts``)."""
        self._ray = RayEpisodes(config.ray_address) if config.ray_address else None
        """Plays the episodes on a Ray cluster instead of threads here (``ray_address``)."""

    def _check_held_out(self) -> None:
        """Evaluation must measure tasks never trained on: their ids may not meet the training tasks'."""
        for mix in self.config.arenas:
            arena = self._arenas[mix.arena]
            shared = {t.id for t in arena.tasks(mix.split)} & {t.id for t in arena.tasks(self.config.eval_split)}
            if shared:
                raise ConfigError(f"eval split {self.config.eval_split!r} of arena {mix.arena!r} shares {len(shared)} "
                                  f"task ids with training split {mix.split!r} (e.g. {sorted(shared)[0]!r}): "
                                  "the evaluation would not be held out")

    # ---- rollouts ---------------------------------------------------------------------------
    def _pick_tasks(self, rng: np.random.Generator, n: int, split_of: dict[str, str] | None = None,
                    ) -> list[tuple[ArenaMix, Task, int]]:
        """``n`` (arena, task, seed) triples: arenas drawn by weight, tasks without replacement
        within the draw where the split is large enough."""
        mixes = self.config.arenas
        weights = np.array([max(m.weight, 0.0) for m in mixes], dtype=float)
        weights = weights / weights.sum() if weights.sum() > 0 else np.full(len(mixes), 1 / len(mixes))
        picks = rng.choice(len(mixes), size=n, p=weights)
        chosen: list[tuple[ArenaMix, Task, int]] = []
        for i, mix in enumerate(mixes):
            count = int((picks == i).sum())
            if not count:
                continue
            split = (split_of or {}).get(mix.arena, mix.split)
            pool = list(self._arenas[mix.arena].tasks(split))
            if not pool:
                raise ValueError(f"arena {mix.arena!r} has no tasks in split {split!r}")
            idx = rng.choice(len(pool), size=count, replace=count > len(pool))
            chosen += [(mix, pool[int(j)], int(rng.integers(2**31 - 1))) for j in idx]
        return chosen

    def rollouts(self, picks: list[tuple[ArenaMix, Task, int]], group_size: int) -> list[Trajectory]:
        """Plays ``group_size`` episodes of every (arena, task, seed) with the current weights.
        Under data parallel each rank plays its share of the groups and every rank gets all episodes."""
        picks = self.dp.shard(picks)
        factory = self.generator.agent_factory()
        trajs: list[Trajectory] = []
        for mix in self.config.arenas:
            jobs = [EpisodeJob(task, seed, r) for m, task, seed in picks if m is mix for r in range(group_size)]
            if not jobs:
                continue
            run_config = RunConfig(arena=mix.arena, agent=f"{self.config.generator}:{self.config.model}",
                                   n=len(jobs), split=mix.split, seed=self.config.seed, rollouts=group_size,
                                   concurrency=self.config.concurrency, arena_config=mix.config)
            trajs += list((self._ray or iter_rollouts)(run_config, factory, jobs, pool=self._pools[mix.arena]))
        return self.dp.gather(trajs)

    # ---- one step ---------------------------------------------------------------------------
    def generate_batch(self, step: int) -> RolloutBatch:
        """The episodes and samples of ``step``, played with the weights the generator holds
        (refilled by dynamic sampling when it is on). Runs in the background with ``async_rollouts``."""
        cfg = self.config
        rng = np.random.default_rng([cfg.seed, step])
        version = self._generator_version
        t0 = time.perf_counter()
        trajs = self.rollouts(self._pick_tasks(rng, cfg.tasks_per_step), cfg.group_size)
        samples, sample_stats = build_samples(trajs, cfg)
        target, rounds = cfg.tasks_per_step * cfg.group_size, 0
        while cfg.dynamic_sampling and len(samples) < target and rounds < cfg.max_resample_rounds:
            rounds += 1
            missing = -(-(target - len(samples)) // cfg.group_size)
            trajs += self.rollouts(self._pick_tasks(rng, missing), cfg.group_size)
            samples, sample_stats = build_samples(trajs, cfg)
        sample_stats["resample_rounds"] = float(rounds)
        return RolloutBatch(trajs, samples, sample_stats, time.perf_counter() - t0, version)

    def train_step(self) -> dict[str, Any]:
        cfg = self.config
        t0 = time.perf_counter()
        batch = (self._prefetch.take(self.step) if self._prefetch else None) or self.generate_batch(self.step)
        trajs, samples, sample_stats, gen_s = batch.trajs, batch.samples, batch.stats, batch.generation_s
        self._save_trajectories("train", trajs)
        metrics: dict[str, Any] = episode_metrics(trajs)
        if len(cfg.arenas) > 1:
            for mix in cfg.arenas:
                metrics.update(episode_metrics([t for t in trajs if t.arena == mix.arena], f"{mix.arena}/"))
        metrics.update(sample_stats)
        gen_tokens = sum(sum((t.tokens or {}).get("mask") or []) for t in trajs)
        metrics.update({"generation_s": gen_s, "generation_wait_s": time.perf_counter() - t0,
                        "generated_tokens": gen_tokens,
                        "generation_tokens_per_s": gen_tokens / gen_s if gen_s > 0 else 0.0,
                        "policy_version": batch.version, "staleness": self.version - batch.version})
        signal = any(s.agent_tokens and s.advantage != 0.0 for s in samples)
        self._warn_dead(sample_stats, signal)
        if self._prefetch is not None and self.stopped is None and self.step + 1 < cfg.steps:
            self._sync_generator(metrics)  # idle now: the next batch is played by the newest weights
            self._prefetch.submit(self.step + 1, self.generate_batch)
        if signal:
            if self._prefetch is not None:
                require_sampler_logprobs(samples, cfg.generator)
            else:
                self.generator.sleep()  # frees a colocated vLLM engine's memory during the update
            metrics.update(self.learner.update(samples))
            self.version += 1
            self.updates += 1
            if self._prefetch is None:
                self._sync_generator(metrics)
        else:
            metrics["skipped_update"] = 1.0
        metrics["step_s"] = time.perf_counter() - t0
        self.step += 1
        return metrics

    def _sync_generator(self, metrics: dict[str, Any] | None = None) -> None:
        """Gives the generator the learner's weights unless it holds them already; never called
        while a batch is being generated."""
        if self._generator_version == self.version:
            return
        t = time.perf_counter()
        self.generator.sync(self.model)
        self._generator_version = self.version
        if metrics is not None:
            metrics["sync_s"] = time.perf_counter() - t

    def _warn_dead(self, stats: dict[str, float], signal: bool) -> None:
        """Warns about groups with all-equal rewards (they teach nothing) and stops the run after
        ``max_dead_steps`` consecutive steps without any signal."""
        dead, groups = int(stats["groups_dead"]), int(stats["groups"])
        if dead:
            log.warning("grpo step %d: %d of %d groups (%.0f%%) had all-equal rewards and give no learning "
                        "signal%s", self.step + 1, dead, groups, 100 * stats["dead_group_share"],
                        "" if signal else "; nothing to learn, update skipped")
        self.dead_steps = 0 if signal else self.dead_steps + 1
        if self.config.max_dead_steps and self.dead_steps >= self.config.max_dead_steps:
            self.stopped = (f"stopped after step {self.step + 1}: {self.dead_steps} consecutive steps in which every "
                            "group had equal rewards (no learning signal). Make the tasks easier or harder for this "
                            "model, raise group_size or temperature, or warm-start the model (arenas sft)")

    def _save_trajectories(self, kind: str, trajs: Sequence[Trajectory]) -> None:
        """Appends the episodes (token ids dropped) to ``out/trajectories/<kind>.jsonl``, tagged with the step."""
        if not self.config.save_trajectories or not self.dp.is_main:
            return
        path = self.out / "trajectories" / f"{kind}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            for t in trajs:
                f.write(dataclasses.replace(t, tokens=None, meta={**t.meta, "grpo_step": self.step}).to_json() + "\n")

    def evaluate(self, n_tasks: int, split: str) -> dict[str, float]:
        """Mean reward of ``group_size`` sampled episodes on each of ``n_tasks`` fixed tasks (the
        same tasks and seeds at every call, so evaluations are comparable across steps)."""
        if self._prefetch is not None:
            self._prefetch.wait()  # one generation at a time, and this one with the newest weights
        self._sync_generator()
        rng = np.random.default_rng([self.config.seed, 10**6])
        picks = self._pick_tasks(rng, n_tasks, {m.arena: split for m in self.config.arenas})
        trajs = self.rollouts(picks, self.config.group_size)
        self._save_trajectories("eval", trajs)
        return episode_metrics(trajs)

    def _eval_row(self, logger: MetricsLogger) -> dict[str, float]:
        result = self.evaluate(self.config.eval_tasks, self.config.eval_split)
        logger.log(self.step, {f"eval/{k}": v for k, v in result.items()})
        return result

    # ---- the loop ---------------------------------------------------------------------------
    def train(self, progress: bool = True) -> dict[str, Any]:
        """Runs ``config.steps`` steps (from the newest checkpoint when ``resume``); returns a summary."""
        cfg = self.config
        if cfg.resume:
            self._resume()
        main = self.dp.is_main  # only rank 0 writes files
        if main:
            (self.out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2, default=str))
        logger = MetricsLogger(self.out, tensorboard=cfg.tensorboard, enabled=main)
        summary: dict[str, Any] = {"start_step": self.step}
        bar = StatusBar("grpo", cfg.steps, completed=self.step, enabled=progress and main)
        try:
            if cfg.eval_tasks and self.step == 0:
                summary["eval_before"] = self._eval_row(logger)
            with bar:
                while self.step < cfg.steps and self.stopped is None:
                    metrics = self.train_step()
                    logger.log(self.step, metrics)
                    bar.advance(_step_stats(metrics))
                    if cfg.save_every and self.step % cfg.save_every == 0 and self.step < cfg.steps:
                        self.save_checkpoint()
                    if cfg.eval_tasks and cfg.eval_every and self.step % cfg.eval_every == 0 \
                            and self.step < cfg.steps and self.stopped is None:
                        self._eval_row(logger)
            self.save_checkpoint()
            self.save_model(self.out / "model")
            if cfg.eval_tasks:
                summary["eval_after"] = self._eval_row(logger)
        finally:
            logger.close()
        if self.stopped is None and self.step > summary["start_step"] and self.updates == 0:
            self.stopped = (f"made no update in {self.step - summary['start_step']} steps: every group had equal "
                            "rewards, so the model is unchanged. Make the tasks easier or harder for this model, "
                            "raise group_size or temperature, or warm-start the model (arenas sft)")
        if self.stopped:
            log.error("grpo %s", self.stopped)
            summary["stopped"] = self.stopped
        png = plot_learning_curve(logger.path, self.out / "learning_curve.png") if main else None
        summary.update({"steps": self.step, "metrics": str(logger.path),
                        "learning_curve": str(png) if png else None, "model": str(self.out / "model")})
        if main:
            (self.out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
        return summary

    def close(self) -> None:
        if self._prefetch is not None:
            self._prefetch.close()
        for arena in self._arenas.values():
            arena.close()
        for pool in self._pools.values():
            pool.close()
        self.generator.close()
        self.dp.close()
        if self._ray is not None:
            self._ray.close()

    # ---- checkpoints ------------------------------------------------------------------------
    def save_model(self, path: Path) -> None:
        """The trained model as a plain transformers directory (LoRA adapters merged), ready for
        ``hf:<path>`` or ``vllm:<path>``."""
        if not self.dp.is_main:
            return
        model = self.learner.model
        if is_peft(model):
            import copy

            model = copy.deepcopy(model).merge_and_unload()
        model.save_pretrained(path)
        self.tokenizer.save_pretrained(path)

    def _checkpoints(self) -> list[Path]:
        return sorted((self.out / "checkpoints").glob("step-*"))

    def save_checkpoint(self) -> Path:
        path = self.out / "checkpoints" / f"step-{self.step:06d}"
        if not self.dp.is_main:
            return path
        state = {"step": self.step, "policy_version": self.version, "config": self.config.to_dict()}
        self.learner.save(path, self.tokenizer, state)
        for old in self._checkpoints()[:-max(self.config.keep_checkpoints, 1)]:
            shutil.rmtree(old, ignore_errors=True)
        return path

    def _resume(self) -> None:
        checkpoints = self._checkpoints()
        if not checkpoints:
            return
        state = self.learner.load(checkpoints[-1])
        self.step = int(state["step"])
        self.version = self._generator_version = int(state.get("policy_version", 0))
        self.generator.sync(self.model)


def _step_stats(m: dict[str, Any]) -> str:
    return (f"reward {m.get('reward_mean', float('nan')):.3f} · success {m.get('success_rate', 0):.0%}"
            f" · dead groups {m.get('dead_group_share', 0):.0%}"
            f" · gen {m.get('generation_s', 0):.1f}s · train {m.get('train_s', 0):.1f}s")
