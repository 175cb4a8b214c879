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

from arenas.agents.grpo.batch import build_samples
from arenas.agents.grpo.config import ArenaMix, GRPOConfig
from arenas.agents.grpo.generation import Generator, make_generator
from arenas.agents.grpo.learner import Learner, is_peft, load_policy, pick_device
from arenas.agents.grpo.metrics import MetricsLogger, episode_metrics, plot_learning_curve
from arenas.config import ConfigError
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
        self.device = pick_device(config.device)
        self.model, self.tokenizer = load_policy(config.model, self.device, config)
        self._arenas = {mix.arena: make(mix.arena, **mix.config) for mix in config.arenas}
        if config.eval_tasks:
            self._check_held_out()
        turns = max(int(getattr(a, "max_turns", 1) or 1) for a in self._arenas.values())
        pad = getattr(self.tokenizer, "pad_token_id", None)
        self.learner = Learner(self.model, config, self.device, pad_id=pad if pad is not None else 0,
                               generation_budget=config.generation_budget(turns))
        self.generator = generator or make_generator(config, self.model, self.tokenizer)
        # arenas lent to episodes, kept across steps (an SQL or Showdown arena is costly to make)
        self._pools = {mix.arena: ArenaPool(lambda m=mix: make(m.arena, **m.config)) for mix in config.arenas}
        self.step = 0
        self.dead_steps = 0
        """Consecutive steps without any group of unequal rewards."""
        self.stopped: str | None = None

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
        """Plays ``group_size`` episodes of every (arena, task, seed) with the current weights."""
        factory = self.generator.agent_factory()
        trajs: list[Trajectory] = []
        for mix in self.config.arenas:
            jobs = [EpisodeJob(task, seed, r) for m, task, seed in picks if m is mix for r in range(group_size)]
            if not jobs:
                continue
            run_config = RunConfig(arena=mix.arena, agent=f"{self.config.generator}:{self.config.model}",
                                   n=len(jobs), split=mix.split, seed=self.config.seed, rollouts=group_size,
                                   concurrency=self.config.concurrency, arena_config=mix.config)
            trajs += list(iter_rollouts(run_config, factory, jobs, pool=self._pools[mix.arena]))
        return trajs

    # ---- one step ---------------------------------------------------------------------------
    def train_step(self) -> dict[str, Any]:
        cfg = self.config
        rng = np.random.default_rng([cfg.seed, self.step])
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
        gen_s = time.perf_counter() - t0
        self._save_trajectories("train", trajs)
        metrics: dict[str, Any] = episode_metrics(trajs)
        if len(cfg.arenas) > 1:
            for mix in cfg.arenas:
                metrics.update(episode_metrics([t for t in trajs if t.arena == mix.arena], f"{mix.arena}/"))
        metrics.update(sample_stats)
        gen_tokens = sum(sum((t.tokens or {}).get("mask") or []) for t in trajs)
        metrics.update({"generation_s": gen_s, "generated_tokens": gen_tokens,
                        "generation_tokens_per_s": gen_tokens / gen_s if gen_s > 0 else 0.0})
        signal = any(s.agent_tokens and s.advantage != 0.0 for s in samples)
        self._warn_dead(sample_stats, signal)
        if signal:
            metrics.update(self.learner.update(samples))
            t1 = time.perf_counter()
            self.generator.sync(self.model)
            metrics["sync_s"] = time.perf_counter() - t1
        else:
            metrics["skipped_update"] = 1.0
        metrics["step_s"] = time.perf_counter() - t0
        self.step += 1
        return metrics

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
        if not self.config.save_trajectories:
            return
        path = self.out / "trajectories" / f"{kind}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            for t in trajs:
                f.write(dataclasses.replace(t, tokens=None, meta={**t.meta, "grpo_step": self.step}).to_json() + "\n")

    def evaluate(self, n_tasks: int, split: str) -> dict[str, float]:
        """Mean reward of ``group_size`` sampled episodes on each of ``n_tasks`` fixed tasks (the
        same tasks and seeds at every call, so evaluations are comparable across steps)."""
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
        (self.out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2, default=str))
        logger = MetricsLogger(self.out, tensorboard=cfg.tensorboard)
        summary: dict[str, Any] = {"start_step": self.step}
        bar = StatusBar("grpo", cfg.steps, completed=self.step, enabled=progress)
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
        if self.stopped:
            log.error("grpo %s", self.stopped)
            summary["stopped"] = self.stopped
        png = plot_learning_curve(logger.path, self.out / "learning_curve.png")
        summary.update({"steps": self.step, "metrics": str(logger.path),
                        "learning_curve": str(png) if png else None, "model": str(self.out / "model")})
        (self.out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
        return summary

    def close(self) -> None:
        for arena in self._arenas.values():
            arena.close()
        for pool in self._pools.values():
            pool.close()
        self.generator.close()

    # ---- checkpoints ------------------------------------------------------------------------
    def save_model(self, path: Path) -> None:
        """The trained model as a plain transformers directory (LoRA adapters merged), ready for
        ``hf:<path>`` or ``vllm:<path>``."""
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
        self.learner.save(path, self.tokenizer, {"step": self.step, "config": self.config.to_dict()})
        for old in self._checkpoints()[:-max(self.config.keep_checkpoints, 1)]:
            shutil.rmtree(old, ignore_errors=True)
        return path

    def _resume(self) -> None:
        checkpoints = self._checkpoints()
        if not checkpoints:
            return
        state = self.learner.load(checkpoints[-1])
        self.step = int(state["step"])
        self.generator.sync(self.model)


def _step_stats(m: dict[str, Any]) -> str:
    return (f"reward {m.get('reward_mean', float('nan')):.3f} · success {m.get('success_rate', 0):.0%}"
            f" · dead groups {m.get('dead_group_share', 0):.0%}"
            f" · gen {m.get('generation_s', 0):.1f}s · train {m.get('train_s', 0):.1f}s")
