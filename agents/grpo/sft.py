"""Supervised warm start before GRPO: a model that never produces a valid action gets no reward
signal, so it first imitates replies from trajectories (an arena's baseline policy, or any run).

The conversation of every turn is rebuilt from a trajectory and rendered with the model's chat
template, as the LLM agent renders it; only the reply's tokens (and the end-of-turn token) are
trained on, as GRPO's loss mask does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch

from arenas.trajectory import Trajectory

Example = tuple[list[dict[str, Any]], str]
"""(messages the agent saw, its reply)."""


def examples_from_trajectories(trajs: Iterable[Trajectory], min_reward: float | None = None) -> list[Example]:
    """One example per turn with a text reply; episodes below ``min_reward`` are skipped."""
    out: list[Example] = []
    for traj in trajs:
        if traj.error is not None or (min_reward is not None and traj.reward < min_reward):
            continue
        messages: list[dict[str, Any]] = []
        for turn in traj.turns:
            messages += list(turn.observation)
            text = (turn.action or {}).get("text") or ""
            if text:
                out.append((list(messages), text))
            messages.append({"role": "assistant", "content": text})
    return out


def policy_trajectories(arena_id: str, policy: str, split: str = "train", n: int = 10, seed: int = 0,
                        **arena_config: Any) -> list[Trajectory]:
    """Episodes of an arena's baseline ``policy`` (oracle, heuristic, ...) on ``n`` tasks of ``split``."""
    from arenas.agent_spec import make_agent_factory
    from arenas.rollout import RunConfig, iter_rollouts

    run = RunConfig(arena=arena_id, agent=policy, n=n, split=split, seed=seed, arena_config=arena_config)
    return list(iter_rollouts(run, make_agent_factory(policy)))


def tokenize_examples(tokenizer: Any, examples: Sequence[Example]) -> list[tuple[list[int], list[int]]]:
    """(ids, mask) per example: the rendered prompt (mask 0), the reply and end-of-turn (mask 1)."""
    rows = []
    eos = tokenizer.eos_token or ""
    for messages, reply in examples:
        prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
        prompt = list(prompt if isinstance(prompt, list) else prompt["input_ids"])
        target = tokenizer(reply + eos, add_special_tokens=False)["input_ids"]
        rows.append((prompt + target, [0] * len(prompt) + [1] * len(target)))
    return rows


def sft(model_dir: str | Path, examples: Sequence[Example], out: str | Path, steps: int = 50,
        learning_rate: float = 1e-4, batch_size: int = 8, seed: int = 0) -> dict[str, float]:
    """Trains on the replies of ``examples`` (cross-entropy on reply tokens only) and saves the model
    and tokenizer to ``out``; returns the first and last batch losses."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not examples:
        raise ValueError("no SFT examples: the trajectories had no text replies")
    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    rows = tokenize_examples(tokenizer, examples)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    losses = []
    for _ in range(steps):
        pick = torch.randint(len(rows), (min(batch_size, len(rows)),), generator=generator).tolist()
        batch = [rows[i] for i in pick]
        width = max(len(ids) for ids, _ in batch)
        ids = torch.full((len(batch), width), pad)
        labels = torch.full_like(ids, -100)
        attention = torch.zeros_like(ids)
        for r, (seq, mask) in enumerate(batch):
            ids[r, :len(seq)] = torch.tensor(seq)
            attention[r, :len(seq)] = 1
            labels[r, :len(seq)] = torch.tensor([t if m else -100 for t, m in zip(seq, mask, strict=True)])
        loss = model(input_ids=ids, attention_mask=attention, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    out = Path(out)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return {"first_loss": losses[0], "last_loss": losses[-1], "examples": float(len(rows))}
