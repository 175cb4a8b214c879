"""Any arena in TRL's ``GRPOTrainer`` (``pip install 'arenas[trl]'``).

    from trl import GRPOConfig, GRPOTrainer
    from arenas.integrations.trl import ArenaReward, ArenaRollout, arena_dataset, episode_reward

    dataset = arena_dataset("sql", split="train", n=256)
    # one reply per task, scored by the arena's verifier
    GRPOTrainer(model, reward_funcs=ArenaReward(), train_dataset=dataset, args=GRPOConfig(...))
    # whole episodes played by the project's LLM agent on the trainer's model
    GRPOTrainer(model, reward_funcs=episode_reward, rollout_func=ArenaRollout(dataset),
                train_dataset=dataset, args=GRPOConfig(...))

The dataset's prompts are the arenas' first observations (tools described in the system message in
the ``<tool_call>`` text format, as the LLM agent does for templates without native tools); its
columns name the task (``arena``, ``arena_config``, ``split``, ``task_id``, ``seed``), so every
completion of a GRPO group is scored on the same task and seed. :class:`ArenaReward` replays a
completion in the arena, each assistant message one action, and returns the episode's return; an
episode the completion leaves unfinished is ended and scored as the arena's turn cap scores it.
:class:`ArenaRollout` is TRL's ``rollout_func``: it plays full multi-turn episodes and returns their
token sequences, with the environment's tokens masked out of the loss (``env_mask``) and the
episode's return as the ``arena_reward`` column that :func:`episode_reward` hands to TRL.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from datasets import Dataset

from arenas.agent import AgentFactory
from arenas.agent_spec import make_agent_factory
from arenas.arena import Arena
from arenas.config import ConfigError
from arenas.registry import make
from arenas.rollout import ArenaPool, EpisodeJob, RunConfig, iter_rollouts
from arenas.tools import TOOL_CALL_FORMAT, as_action
from arenas.trajectory import Trajectory
from arenas.types import Action, Task, Termination

log = logging.getLogger("arenas.integrations.trl")

ArenaKey = tuple[str, str]
"""(arena id, its configuration as sorted JSON): arenas made alike share a pool."""

ROW_KEY = "arena_task"
"""Key of a prompt's first message that names its row (chat templates ignore it): TRL hands a
rollout function prompts only, and different tasks may open with the same words."""


def arena_dataset(arena: str, split: str = "train", n: int = 100, seed: int = 0,
                  arena_config: dict[str, Any] | None = None, tool_prompt: bool = True) -> Dataset:
    """``n`` tasks of ``split`` (the arena's seeded sample; row i has seed ``seed + i``, as in
    ``arenas run``) as a conversational prompt dataset. ``tool_prompt`` appends the arena's tools
    to the system message in text form: TRL renders one tool list for the whole run, not one per row."""
    config = dict(arena_config or {})
    with make(arena, **config) as probe:
        if split not in probe.splits or not probe.tasks(split):
            raise ConfigError(f"arena {arena!r} has no tasks in split {split!r}; splits: {', '.join(probe.splits)}")
        tools = [t.to_openai() for t in probe.tools()] if tool_prompt else []
        rows = []
        for i, task in enumerate(probe.sample_tasks(split, n, seed)):
            row = {"arena": arena, "arena_config": json.dumps(config, sort_keys=True), "split": split,
                   "task_id": task.id, "seed": seed + i}
            prompt = _with_tools(_plain(probe.reset(task=task, seed=seed + i).messages, arena), tools)
            for j, message in enumerate(prompt):
                message[ROW_KEY] = json.dumps(row, sort_keys=True) if j == 0 else None
            rows.append({"prompt": prompt, **row})
    return Dataset.from_list(rows)


def _plain(messages: list[dict[str, Any]], arena: str) -> list[dict[str, str]]:
    """Role and text of each message (a dataset column needs one shape for every row)."""
    out = []
    for m in messages:
        if not isinstance(m.get("content"), str):
            raise ConfigError(f"arena {arena!r} opens with a message whose content is not text "
                              f"({type(m.get('content')).__name__}); a TRL prompt dataset holds text messages")
        out.append({"role": str(m["role"]), "content": m["content"]})
    return out


def _with_tools(messages: list[dict[str, str]], tools: list[dict[str, Any]]) -> list[dict[str, str]]:
    if not tools:
        return messages
    text = ("You can call these tools:\n<tools>\n" + "\n".join(json.dumps(t["function"]) for t in tools)
            + "\n</tools>\n\n" + TOOL_CALL_FORMAT)
    if messages and messages[0]["role"] == "system":
        return [{"role": "system", "content": f"{messages[0]['content']}\n\n{text}"}] + messages[1:]
    return [{"role": "system", "content": text}] + messages


class _Arenas:
    """Arena pools and task tables, one per (arena, configuration)."""

    def __init__(self) -> None:
        self.pools: dict[ArenaKey, ArenaPool] = {}
        self.tasks: dict[tuple[ArenaKey, str], dict[str, Task]] = {}
        self.lock = threading.Lock()

    def pool(self, key: ArenaKey) -> ArenaPool:
        with self.lock:
            if key not in self.pools:
                arena, config = key
                self.pools[key] = ArenaPool(lambda: make(arena, **json.loads(config)))
            return self.pools[key]

    def task(self, key: ArenaKey, split: str, task_id: str) -> Task:
        if (key, split) not in self.tasks:
            pool = self.pool(key)
            arena = pool.acquire()
            try:
                table = {t.id: t for t in arena.tasks(split)}
            finally:
                pool.release(arena)
            with self.lock:
                self.tasks[(key, split)] = table
        try:
            return self.tasks[(key, split)][task_id]
        except KeyError:
            raise ValueError(f"arena {key[0]!r} has no task {task_id!r} in split {split!r}: the dataset was "
                             "built by another version or configuration of the arena") from None

    def close(self) -> None:
        for pool in self.pools.values():
            pool.close()
        self.pools.clear()


def completion_actions(completion: str | list[dict[str, Any]]) -> list[Action]:
    """The actions of a TRL completion: the text of a standard one, or each assistant message
    (its text and any tool calls TRL parsed) of a conversational one."""
    if isinstance(completion, str):
        return [as_action(completion)]
    return [as_action({"content": m.get("content"), "tool_calls": m.get("tool_calls") or None})
            for m in completion if m.get("role") == "assistant"]


def replay(arena: Arena, task: Task, seed: int, actions: Sequence[Action]) -> float:
    """The return of an episode of ``task`` that plays ``actions``; one they leave unfinished is
    ended as the turn cap would end it (its unfinished work scored, not dropped)."""
    arena.reset(task=task, seed=seed)
    total = 0.0
    for action in actions:
        result = arena.step(action)
        total += result.reward
        if result.done:
            return total
    return total + arena.end_episode(Termination.MAX_TURNS).reward


class ArenaReward:
    """A TRL reward function: each completion replayed in its row's arena, the verifier's return.

    Rows of another arena's dataset are answered with None (TRL leaves them to the other reward
    functions of a mix); an arena that raises scores its row None and is logged, never ending the run."""

    __name__ = "arena_reward"

    def __init__(self, concurrency: int = 8):
        self.concurrency = max(1, int(concurrency))
        self.arenas = _Arenas()

    def __call__(self, prompts: list[Any], completions: list[Any], arena: list[str] | None = None,
                 arena_config: list[str] | None = None, split: list[str] | None = None,
                 task_id: list[str] | None = None, seed: list[int] | None = None, **_: Any) -> list[float | None]:
        if arena is None or task_id is None or seed is None or split is None:
            raise ValueError("ArenaReward needs the arena, arena_config, split, task_id and seed columns of "
                             "arena_dataset() in the training dataset")
        configs = arena_config or ["{}"] * len(completions)
        rows = list(zip(arena, configs, split, task_id, seed, completions, strict=True))
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(rows)) or 1) as pool:
            return list(pool.map(lambda row: self._score(*row), rows))

    def _score(self, arena: str, config: str, split: str, task_id: str, seed: int, completion: Any) -> float | None:
        key = (arena, config)
        task = self.arenas.task(key, split, task_id)
        actions = completion_actions(completion)
        pool = self.arenas.pool(key)
        instance = pool.acquire()
        try:
            reward = replay(instance, task, int(seed), actions)
        except Exception as e:
            pool.release(instance, broken=True)
            log.warning("arena %s raised on task %s, its reward is left out: %s: %s", arena, task_id,
                        type(e).__name__, e)
            return None
        pool.release(instance)
        return float(reward)

    def close(self) -> None:
        self.arenas.close()


def episode_reward(completions: list[Any], arena_reward: list[float | None] | None = None,
                   **_: Any) -> list[float | None]:
    """The TRL reward function of :class:`ArenaRollout`: the return of each played episode (None,
    left out of its group's baseline, for an episode that failed)."""
    if arena_reward is None:
        raise ValueError("episode_reward reads the arena_reward column that ArenaRollout returns: pass "
                         "rollout_func=ArenaRollout(dataset) to GRPOTrainer")
    return list(arena_reward)


class ArenaRollout:
    """A TRL ``rollout_func`` that plays whole episodes of the prompts' tasks.

    Episodes are played by the rollout engine (``concurrency`` at once, batched on one backend)
    with the project's LLM agent on the trainer's own model (an ``hf`` backend sharing it, so
    every step samples the current weights), at the trainer's ``temperature`` and ``top_p``;
    ``max_completion_length`` caps each turn's reply and ``agent_options`` (``LLMConfig`` fields
    such as ``max_episode_tokens``) set the rest. ``agent`` (an agent spec or factory) plays instead,
    e.g. a model server that receives the weights elsewhere; it must record token ids. Prompts
    must come from :func:`arena_dataset`, whose first message names the task.
    """

    def __init__(self, concurrency: int = 32, agent: str | AgentFactory | None = None, **agent_options: Any):
        self.concurrency = max(1, int(concurrency))
        self.agent = agent
        self.agent_options = agent_options
        self.arenas = _Arenas()
        self.last_trajectories: list[Trajectory] = []
        """The episodes of the latest call, in the order of its prompts."""

    def __call__(self, prompts: list[Any], trainer: Any) -> dict[str, list[Any]]:
        jobs = [self._job(prompt, prompts[:i]) for i, prompt in enumerate(prompts)]
        model = trainer.accelerator.unwrap_model(trainer.model)
        was_training = model.training
        factory, spec = self._factory(model, trainer)
        try:
            trajs = self._play(jobs, factory, spec)
        finally:
            backend = getattr(factory, "backend", None)
            if backend is not None and self.agent is None:
                backend.close()
            model.train(was_training)
        self.last_trajectories = trajs
        if not any(_agent_span(t) for t in trajs):
            errors = {t.error.splitlines()[0] for t in trajs if t.error}
            raise RuntimeError("no episode of this batch recorded the agent's token ids, which TRL trains on"
                               + (f"; episode errors: {sorted(errors)[:3]}" if errors else ""))
        return _pack(trajs, prompts, trainer.processing_class)

    def _job(self, prompt: Any, before: list[Any]) -> tuple[ArenaKey, EpisodeJob]:
        row = _row_of(prompt)
        key = (row["arena"], row["arena_config"])
        rollout = sum(_row_of(p) == row for p in before)
        return key, EpisodeJob(self.arenas.task(key, row["split"], row["task_id"]), int(row["seed"]), rollout)

    def _factory(self, model: Any, trainer: Any) -> tuple[AgentFactory, str]:
        args = trainer.args
        options = {"temperature": args.temperature, "top_p": args.top_p, "max_tokens": args.max_completion_length,
                   **self.agent_options}
        if callable(self.agent):
            return self.agent, getattr(self.agent, "__name__", "agent")
        if isinstance(self.agent, str):
            return make_agent_factory(self.agent, **options), self.agent
        spec = f"hf:{getattr(model, 'name_or_path', '') or 'trl-model'}"
        return make_agent_factory(spec, model=model, tokenizer=trainer.processing_class,
                                  device=str(model.device), **options), spec

    def _play(self, jobs: list[tuple[ArenaKey, EpisodeJob]], factory: AgentFactory, spec: str) -> list[Trajectory]:
        index = {(key, job.key): i for i, (key, job) in enumerate(jobs)}
        out: list[Trajectory | None] = [None] * len(jobs)
        for key in dict.fromkeys(k for k, _ in jobs):
            mine = [job for k, job in jobs if k == key]
            arena, config = key
            run_config = RunConfig(arena=arena, agent=spec, n=len(mine), split=mine[0].task.split,
                                   rollouts=1, concurrency=min(self.concurrency, len(mine)),
                                   arena_config=json.loads(config))
            for traj in iter_rollouts(run_config, factory, mine, pool=self.arenas.pool(key)):
                out[index[(key, traj.key)]] = traj
        return [t for t in out if t is not None]

    def close(self) -> None:
        self.arenas.close()


def _row_of(prompt: Any) -> dict[str, Any]:
    """The dataset row a prompt of :func:`arena_dataset` was made for."""
    first = prompt[0] if isinstance(prompt, list) and prompt and isinstance(prompt[0], dict) else {}
    if not first.get(ROW_KEY):
        raise ValueError(f"ArenaRollout plays prompts of arena_dataset(), whose first message names its task "
                         f"({ROW_KEY!r}); this prompt has none")
    return json.loads(first[ROW_KEY])


def _agent_span(traj: Trajectory) -> tuple[int, int] | None:
    """[first, last] positions of the agent's tokens in the episode's sequence, None without any."""
    tokens = traj.tokens or {}
    mask = list(tokens.get("mask") or [])
    if traj.error is not None or 1 not in mask or len(mask) != len(tokens.get("ids") or []):
        return None
    return mask.index(1), len(mask) - 1 - mask[::-1].index(1)


def _pack(trajs: list[Trajectory], prompts: list[Any], tokenizer: Any) -> dict[str, list[Any]]:
    """TRL's rollout output: the sequence before the first agent token is the prompt, the rest up
    to the last agent token the completion (``env_mask`` 0 on the environment's tokens in it). A
    failed episode gets a one-token placeholder that TRL neither trains on nor scores (reward None)."""
    out: dict[str, list[Any]] = {k: [] for k in ("prompt_ids", "completion_ids", "logprobs", "env_mask",
                                                 "arena_reward", "arena_termination")}
    for traj, prompt in zip(trajs, prompts, strict=True):
        span = _agent_span(traj)
        if span is None:
            out["prompt_ids"].append(_render(tokenizer, prompt))
            out["completion_ids"].append([tokenizer.eos_token_id])
            out["logprobs"].append([0.0])
            out["env_mask"].append([0])
            out["arena_reward"].append(None)
        else:
            first, last = span
            ids, mask = traj.tokens["ids"], traj.tokens["mask"]
            logprobs = traj.tokens.get("logprobs") or [0.0] * len(ids)
            out["prompt_ids"].append(list(ids[:first]))
            out["completion_ids"].append(list(ids[first:last + 1]))
            out["logprobs"].append([float(x) for x in logprobs[first:last + 1]])
            out["env_mask"].append([int(m) for m in mask[first:last + 1]])
            out["arena_reward"].append(float(traj.reward))
        out["arena_termination"].append(str(traj.termination))
    return out


def _render(tokenizer: Any, prompt: Any) -> list[int]:
    if isinstance(prompt, str):
        return list(tokenizer.encode(prompt, add_special_tokens=False))
    text = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False)
    return list(tokenizer.encode(text, add_special_tokens=False))

