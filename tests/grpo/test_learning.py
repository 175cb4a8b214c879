"""Proof of learning: GRPO raises a tiny model's reward on a real arena, against a learning-rate-0 control.

Arena: ``memory`` (mallocGame) restricted to two workloads, ``mlp_small`` (train split) and
``mlp_deep`` (dev split: the evaluation is on tasks never trained on), two turns per episode
(two buffers to place), invalid-action penalty 1.0. The reward is then dominated by the answer
format: ``slow`` or a legal ``fast@<offset>`` is valid, anything else costs 1. This is the fast
version; ``benchmarks/grpo_cpu_recipe.py`` is the recipe whose measure is beyond the format.

Model: a random-init tiny chat model created here, then warm-started by a few supervised steps
on a mixture of replies (about a third ``slow``, the rest near misses such as ``slot`` or
``slowly``), standing in for a pretrained model that sometimes follows the format. GRPO must
then raise the share of valid replies. Both runs share every seed; only the learning rate
differs, so the control measures the untrained policy on the same tasks.
"""

import json
import math

import torch
from typer.testing import CliRunner

import arenas
from arenas.agents.llm.tiny_model import create_tiny_model

ARENA_OPTIONS = ["-c", "workloads=mlp_small,mlp_deep", "-c", "max_turns=2", "-c", "invalid_action_penalty=1.0"]
REPLIES = ["slow"] * 4 + ["slot", "show", "fast", "low", "slowly", "flow"]


def warm_start(path, steps: int = 50, lr: float = 2e-2) -> None:
    """Supervised steps on REPLIES after a real first prompt of the arena."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    arena = arenas.make("memory", workloads="mlp_small,mlp_deep", max_turns=2)
    obs = arena.reset(arena.tasks("train")[0], seed=0)
    prompt = tok.apply_chat_template(obs.messages, add_generation_prompt=True, tokenize=True)
    prompt = list(prompt if isinstance(prompt, list) else prompt["input_ids"])
    rows = [tok(r + tok.eos_token)["input_ids"] for r in REPLIES]
    width = len(prompt) + max(map(len, rows))
    ids = torch.full((len(rows), width), tok.pad_token_id)
    labels = torch.full_like(ids, -100)
    attention = torch.zeros_like(ids)
    for i, r in enumerate(rows):
        n = len(prompt) + len(r)
        ids[i, :n] = torch.tensor(prompt + r)
        labels[i, len(prompt):n] = torch.tensor(r)
        attention[i, :n] = 1
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    for _ in range(steps):
        model(input_ids=ids, attention_mask=attention, labels=labels).loss.backward()
        opt.step()
        opt.zero_grad()
    model.save_pretrained(path)


def _train(model_dir, out, lr):
    from arenas.cli import _register_extra_commands, app

    _register_extra_commands()
    args = ["train", "--arena", "memory", "--model", str(model_dir), "--steps", "12", "--out", str(out),
            "--tasks-per-step", "2", "-G", "8", "--lr", str(lr), "--seed", "0", "--quiet", *ARENA_OPTIONS,
            "-t", "max_new_tokens=6", "-t", "mu=2", "-t", "concurrency=16", "-t", "eval_tasks=4", "-t", "eval_split=dev",
            "-t", "tensorboard=false", "-t", "max_dead_steps=0"]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads((out / "summary.json").read_text())


def _rows(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def _welch_t(a, b):
    se = math.sqrt(a["reward_std"] ** 2 / a["episodes"] + b["reward_std"] ** 2 / b["episodes"])
    return (a["reward_mean"] - b["reward_mean"]) / max(se, 1e-9)


def test_grpo_raises_reward_over_a_learning_rate_zero_control(tmp_path):
    model_dir = create_tiny_model(tmp_path / "model", vocab_size=512, hidden=16, layers=1, heads=1, seed=0)
    warm_start(model_dir)
    trained = _train(model_dir, tmp_path / "trained", lr=5e-3)
    control = _train(model_dir, tmp_path / "control", lr=0.0)

    before, after, still = trained["eval_before"], trained["eval_after"], control["eval_after"]
    assert after["episodes"] == still["episodes"] == 32
    # the control does not move: its policy is the initial one
    assert abs(still["reward_mean"] - before["reward_mean"]) < 0.8
    # the trained policy beats the control by a margin sampling noise cannot explain
    assert after["reward_mean"] - still["reward_mean"] > 0.4
    assert _welch_t(after, still) > 4.0
    assert after["invalid_action_rate"] < 0.5 * still["invalid_action_rate"]

    curve = [r for r in _rows(tmp_path / "trained") if "reward_mean" in r]
    flat = [r for r in _rows(tmp_path / "control") if "reward_mean" in r]
    late = lambda rows: sum(r["reward_mean"] for r in rows[-4:]) / 4  # noqa: E731
    assert late(curve) > late(flat) + 0.3
    assert (tmp_path / "trained" / "learning_curve.png").exists()
