"""GRPO throughput on CPU: sequence packing in the learner and asynchronous rollouts, each against
its baseline run in the same process with the same model, data and seeds.

    python benchmarks/grpo_throughput.py [--steps 4] [--threads 2]

(a) Packing: one learner update on 48 episodes of varied length (32 to 480 tokens, a third prompt,
    the rest agent tokens), padded micro-batches of 8 (sorted by length, the trainer's default)
    against packed rows of ``--pack-tokens``; learner tokens/s, median of 5 alternating repeats.
(b) Async rollouts: ``--steps`` GRPO steps on ``memory`` (two buffers, 2 turns, 4 tasks x G 4) from a
    tiny model warm-started by a short SFT on the ``heuristic`` policy's replies (so groups have
    unequal rewards and every step updates), synchronous against ``async_rollouts``. The first step
    is synchronous in both (nothing was prefetched), so the mean is over the later steps.

``--threads 1`` (default) gives the learner and the generator one torch thread each: on two shared
cores two threads per thread oversubscribe them (both runs use the same setting).

A random-init tiny model (Qwen2-style, built with ``arenas tiny-model``'s code) stands in for a
real one. On a CPU generation and the update run on the same cores: the overlap can only hide work
where a core would otherwise idle (the Python side of generation, waits on the arena), so the
async ratio on a 2-core machine is a floor, not what a GPU with a separate generator would show.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

ARENA = {"workloads": "mlp_small,mlp_deep", "max_turns": 2}


def packing_benchmark(model_dir: Path, pack_tokens: int, repeats: int = 5) -> dict[str, float]:
    import torch

    from arenas.agents.grpo.batch import Sample, collate, micro_batches
    from arenas.agents.grpo.config import GRPOConfig
    from arenas.agents.grpo.learner import Learner, load_policy

    g = torch.Generator().manual_seed(0)
    samples = []
    for i in range(48):
        n = int(torch.randint(32, 481, (1,), generator=g))
        prompt = n // 3
        ids = torch.randint(5, 500, (n,), generator=g).tolist()
        samples.append(Sample(ids, [0] * prompt + [1] * (n - prompt), [0.0] * prompt + [-4.0] * (n - prompt),
                              1.0 if i % 2 else -1.0))
    tokens = sum(len(s.ids) for s in samples)
    padded = sum(collate(b).input_ids.numel() for b in micro_batches(samples, 8))
    learners = {}
    for name, pack in (("padded", 0), ("packed", pack_tokens)):
        cfg = GRPOConfig(model=str(model_dir), learning_rate=1e-6, micro_batch_size=8, pack_tokens=pack,
                         log_entropy=False)
        model, tok = load_policy(cfg.model, torch.device("cpu"), cfg)
        learners[name] = Learner(model, cfg, torch.device("cpu"), pad_id=tok.pad_token_id)
    rates: dict[str, list[float]] = {"padded": [], "packed": []}
    for _ in range(repeats):
        for name, learner in learners.items():
            rates[name].append(learner.update(samples)["train_tokens_per_s"])
    out = {f"{k}_tokens_per_s": statistics.median(v) for k, v in rates.items()}
    out["padding_share"] = 1 - tokens / padded
    out["ratio"] = out["packed_tokens_per_s"] / out["padded_tokens_per_s"]
    return out


def warm_start(base: Path, out: Path) -> Path:
    from arenas.agents.grpo.sft import examples_from_trajectories, policy_trajectories, sft

    trajs = policy_trajectories("memory", "heuristic", "train", n=4, **ARENA)
    sft(base, examples_from_trajectories(trajs), out, steps=12, learning_rate=1e-2)
    return out


def async_benchmark(model_dir: Path, out: Path, steps: int) -> dict[str, dict[str, float]]:
    from arenas.agents.grpo.config import GRPOConfig
    from arenas.agents.grpo.metrics import read_metrics
    from arenas.agents.grpo.trainer import GRPOTrainer

    results = {}
    for name, asynchronous in (("sync", False), ("async", True)):
        cfg = GRPOConfig(model=str(model_dir), out=str(out / name), steps=steps, tasks_per_step=4, group_size=4,
                         max_new_tokens=8, learning_rate=1e-3, concurrency=16, max_dead_steps=0, seed=0,
                         tensorboard=False, save_trajectories=False, async_rollouts=asynchronous,
                         arenas=[{"arena": "memory", "config": ARENA}])
        trainer = GRPOTrainer(cfg)
        start = time.perf_counter()
        try:
            trainer.train(progress=False)
        finally:
            trainer.close()
        wall = time.perf_counter() - start
        rows = [r for r in read_metrics(out / name / "metrics.jsonl") if "step_s" in r][1:]
        results[name] = {"wall_s": wall, "updates": sum("skipped_update" not in r for r in rows),
                         **{key: statistics.mean(r.get(key) or 0.0 for r in rows)
                            for key in ("step_s", "generation_s", "train_s", "generation_wait_s", "staleness")}}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--pack-tokens", type=int, default=512)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads of every thread (learner and generator); 0: torch's default")
    args = parser.parse_args()
    if args.threads:  # before torch starts: OpenMP gives each new thread this many
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import torch

    from arenas.agents.llm.tiny_model import create_tiny_model

    print(f"torch threads {torch.get_num_threads()}, tiny model hidden {args.hidden}, 2 layers, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory() as tmp:
        base = create_tiny_model(Path(tmp) / "base", vocab_size=512, hidden=args.hidden, layers=2, heads=2, seed=0)
        p = packing_benchmark(base, args.pack_tokens)
        print(f"(a) learner, 48 episodes of 32-480 tokens: padded micro-batches of 8 "
              f"{p['padded_tokens_per_s']:,.0f} tok/s ({p['padding_share']:.0%} padding); "
              f"packed rows of {args.pack_tokens} {p['packed_tokens_per_s']:,.0f} tok/s; ratio {p['ratio']:.2f}x")
        model = warm_start(base, Path(tmp) / "sft")
        r = async_benchmark(model, Path(tmp) / "runs", args.steps)
        for name, m in r.items():
            print(f"(b) {name:5s}: {m['step_s']:.2f} s/step over steps 2-{args.steps} (generation {m['generation_s']:.2f} s, "
                  f"update {m['train_s']:.2f} s, waiting for the batch {m['generation_wait_s']:.2f} s, staleness "
                  f"{m['staleness']:.1f}, {m['updates']} updates); run {m['wall_s']:.1f} s")
        print(f"(b) async / sync time per step: {r['async']['step_s'] / r['sync']['step_s']:.2f}x "
              f"(speed-up {r['sync']['step_s'] / r['async']['step_s']:.2f}x)")


if __name__ == "__main__":
    main()
