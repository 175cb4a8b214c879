"""The CPU recipe: SFT warm start on a baseline policy's trajectories, then GRPO, measured on
held-out tasks against a learning-rate-0 control run from the same start with the same seeds.

Arena ``memory``: training on the train split's workloads, evaluation on fixed tasks of the dev
split (workloads never trained on), three buffers per episode, the arena's default reward
(speed-up over the heuristic, 0.01 per illegal action). Each turn the agent must read the state:
``fast@<offset>`` is legal only when the prompt offers that offset, and a legal fast placement
makes the program faster; ``slow`` is always legal but gives nothing. The measured quantity is the
per-task-normalised reward: an episode's reward minus the reward of placing every buffer slow on
the same task (so the task mix cannot move it), with the illegal-placement rate, the share of
offered placements taken, and decision accuracy. The model is a random-init tiny chat model
warm-started by a short SFT on the ``heuristic`` policy's replies on a few train tasks.

    python benchmarks/grpo_cpu_recipe.py [--quick] [--out runs/grpo_recipe]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import time
from pathlib import Path
from typing import Any

ARENA = {"max_turns": 3}
FULL = {"steps": 16, "tasks_per_step": 4, "group_size": 8, "eval_every": 4, "eval_tasks": 8, "sft_steps": 30}
QUICK = {"steps": 8, "tasks_per_step": 4, "group_size": 6, "eval_every": 4, "eval_tasks": 6, "sft_steps": 30}
LR = 1e-3


def warm_start(out: Path, sft_steps: int, hidden: int) -> tuple[Path, dict[str, float]]:
    from arenas.agents.grpo.sft import examples_from_trajectories, policy_trajectories, sft
    from arenas.agents.llm.tiny_model import create_tiny_model

    base = create_tiny_model(out / "base", vocab_size=512, hidden=hidden, layers=2, heads=2, seed=0)
    trajs = policy_trajectories("memory", "heuristic", "train", n=8, **ARENA)
    stats = sft(base, examples_from_trajectories(trajs), out / "sft", steps=sft_steps, learning_rate=1e-2)
    return out / "sft", stats


def grpo(model: Path, out: Path, lr: float, knobs: dict[str, Any]) -> dict[str, Any]:
    from arenas.agents.grpo.config import GRPOConfig
    from arenas.agents.grpo.trainer import GRPOTrainer

    config = GRPOConfig(model=str(model), out=str(out), steps=knobs["steps"], tasks_per_step=knobs["tasks_per_step"],
                        group_size=knobs["group_size"], learning_rate=lr, mu=2, max_new_tokens=8, concurrency=24,
                        eval_tasks=knobs["eval_tasks"], eval_every=knobs["eval_every"], eval_split="dev",
                        tensorboard=False,
                        max_dead_steps=0, seed=0, arenas=[{"arena": "memory", "config": ARENA}])
    trainer = GRPOTrainer(config)
    try:
        return trainer.train(progress=False)
    finally:
        trainer.close()


def all_slow_reward(task_id: str, split: str = "dev") -> float:
    """The reward of placing every buffer slow on ``task_id``: the per-task baseline."""
    import arenas
    from arenas.types import Action

    arena = arenas.make("memory", **ARENA)
    task = next(t for t in arena.tasks(split) if t.id == task_id)
    arena.reset(task, seed=0)
    total, done = 0.0, False
    while not done:
        result = arena.step(Action(text="slow"))
        total += result.reward
        done = result.terminated or result.truncated
    return total


def decisions(run: Path, step: int, baselines: dict[str, float]) -> dict[str, float]:
    """Per-task-normalised reward and per-turn decision quality of the evaluation episodes of ``step``."""
    turns = offered = fast_when_offered = illegal = right = 0
    rewards = []
    for line in (run / "trajectories" / "eval.jsonl").read_text().splitlines():
        t = json.loads(line)
        if t["meta"].get("grpo_step") != step:
            continue
        if t["task_id"] not in baselines:
            baselines[t["task_id"]] = all_slow_reward(t["task_id"])
        rewards.append((0.0 if t.get("error") else t["reward"]) - baselines[t["task_id"]])
        for turn in t["turns"]:
            shown = " ".join(m.get("content") or "" for m in turn["observation"])
            match = re.search(r"Offered: (\S+)", shown)
            if not match:
                continue
            is_offered = match.group(1) != "none"
            action = (turn["action"].get("text") or "").strip()
            bad = bool(turn["info"].get("invalid_action"))
            fast = action.startswith("fast@") and not bad
            turns += 1
            offered += is_offered
            fast_when_offered += fast and is_offered
            illegal += bad
            right += (fast if is_offered else action == "slow")
    n = max(turns, 1)
    mean = sum(rewards) / max(len(rewards), 1)
    var = sum((r - mean) ** 2 for r in rewards) / max(len(rewards) - 1, 1)
    return {"episodes": len(rewards), "reward_mean": mean, "reward_var": var, "illegal_rate": illegal / n,
            "fast_when_offered": fast_when_offered / max(offered, 1), "decision_accuracy": right / n}


def welch_t(a: dict[str, float], b: dict[str, float]) -> float:
    se = math.sqrt(a["reward_var"] / a["episodes"] + b["reward_var"] / b["episodes"])
    return (a["reward_mean"] - b["reward_mean"]) / max(se, 1e-12)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="the smaller version the test runs")
    parser.add_argument("--out", default="runs/grpo_recipe")
    parser.add_argument("--hidden", type=int, default=64, help="width of the tiny model")
    parser.add_argument("--lr", type=float, default=LR, help="GRPO learning rate")
    args = parser.parse_args()
    knobs = QUICK if args.quick else FULL
    out = Path(args.out)
    start = time.perf_counter()
    model, sft_stats = warm_start(out, knobs["sft_steps"], args.hidden)
    trained = grpo(model, out / "trained", args.lr, knobs)
    grpo(model, out / "control", 0.0, knobs)
    last, base = trained["steps"], {}
    rows = {"sft start": decisions(out / "trained", 0, base), "control (lr 0)": decisions(out / "control", last, base),
            "GRPO": decisions(out / "trained", last, base)}
    print(f"SFT: loss {sft_stats['first_loss']:.2f} -> {sft_stats['last_loss']:.2f} on {sft_stats['examples']:.0f} "
          "heuristic replies")
    print(f"held-out dev tasks ({rows['GRPO']['episodes']} episodes on {len(base)} tasks), after {last} steps:")
    print("| run | reward - all-slow reward (per task) | illegal placements | fast when offered | decision accuracy |")
    print("|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['reward_mean']:+.4f} | {r['illegal_rate']:.0%} | {r['fast_when_offered']:.0%} | "
              f"{r['decision_accuracy']:.0%} |")
    print(f"GRPO vs control: {rows['GRPO']['reward_mean'] - rows['control (lr 0)']['reward_mean']:+.4f}, "
          f"Welch t = {welch_t(rows['GRPO'], rows['control (lr 0)']):.1f}")
    print(f"curve: {trained['learning_curve']}; wall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
