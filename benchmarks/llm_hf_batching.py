"""Micro-batched ``hf`` backend: N concurrent episodes vs the same N episodes one at a time.

    python benchmarks/llm_hf_batching.py                      # tiny CPU model built on the fly
    python benchmarks/llm_hf_batching.py --hidden 768 --layers 12 --vocab 32000 --device cuda

Both runs use one loaded model and the same tasks in the same process; the ratio is sampled
tokens/s of the concurrent run over the sequential one (target: >= 5x at 32 episodes). The
default arena is a small number-guessing tool arena (prompts of ~150 tokens, so generation
dominates); ``--arena sql`` uses SQL questions (schema hidden; ~950-token prompts with this
tokenizer, so prefill, which batching does not make cheaper per token, takes a larger share).
A random-init model rarely samples its end-of-turn token, so turns run to ``--max-tokens``.
Pass ``--threads 1`` on a shared CPU: two torch threads fighting other processes make the
sequential baseline erratic.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import arenas
from arenas import Observation, Task, ToolArena, tool
from arenas.agents.llm.agent import LLMAgent, LLMConfig
from arenas.agents.llm.hf import HFBackend
from arenas.agents.llm.tiny_model import create_tiny_model
from arenas.rollout import RunConfig, iter_rollouts
from arenas.verifiers import RewardBreakdown


class GuessArena(ToolArena):
    """Find a secret integer with higher/lower hints: short prompts, one small tool."""

    id = "bench-guess"

    def tasks(self, split: str) -> list[Task]:
        return [Task(f"guess-{i}", split, {}, {"secret": (i * 37) % 100}) for i in range(64)]

    def first_observation(self, task: Task) -> Observation:
        return Observation([{"role": "user", "content": "Find the secret integer in [0, 100)."}])

    @tool
    def guess(self, number: int) -> str:
        """Guess the secret.

        Args:
            number: an integer in [0, 100)
        """
        secret = self.task.reference["secret"]
        if number == secret:
            self.finish(RewardBreakdown(1.0, {}, {}, True))
            return "correct"
        return "higher" if secret > number else "lower"


arenas.register("bench-guess", GuessArena)


def measure(backend: HFBackend, config: LLMConfig, episodes: int, concurrency: int, turns: int,
            arena: str) -> dict:
    arena_config = {"max_turns": turns} | ({"show_schema": False} if arena == "sql" else {})
    run = RunConfig(arena=arena, agent="hf", n=episodes, concurrency=concurrency, arena_config=arena_config)
    before = len(backend.batcher.batch_sizes)
    start = time.perf_counter()
    trajs = list(iter_rollouts(run, lambda: LLMAgent(backend, config)))
    elapsed = time.perf_counter() - start
    errors = [t.error for t in trajs if t.error]
    if errors:
        raise RuntimeError(errors[0])
    tokens = sum(t.token_counts["completion"] for t in trajs)
    sizes = backend.batcher.batch_sizes[before:]
    return {"seconds": elapsed, "tokens": tokens, "tokens_per_s": tokens / elapsed, "batches": len(sizes),
            "largest": max(sizes)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", help="model folder (default: build a random-init one)")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--vocab", type=int, default=4096)
    p.add_argument("--arena", default="bench-guess", help="bench-guess (short prompts) or sql")
    p.add_argument("--episodes", type=int, default=32)
    p.add_argument("--turns", type=int, default=2)
    p.add_argument("--max-tokens", type=int, default=64)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    args = p.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.model or str(create_tiny_model(Path(tmp) / "model", vocab_size=args.vocab, hidden=args.hidden,
                                                   layers=args.layers, heads=max(4, args.hidden // 64)))
        backend = HFBackend(path, device=args.device, max_batch=args.episodes)
        params = sum(x.numel() for x in backend.model.parameters())
        config = LLMConfig(max_tokens=args.max_tokens, min_turn_tokens=1)
        measure(backend, config, 2, 2, 1, args.arena)  # warm-up
        seq = measure(backend, config, args.episodes, 1, args.turns, args.arena)
        par = measure(backend, config, args.episodes, args.episodes, args.turns, args.arena)
        backend.close()
    print(f"model: {params / 1e6:.1f}M parameters on {backend.device}; arena {args.arena}; {args.episodes} "
          f"episodes x {args.turns} turns x {args.max_tokens} tokens")
    for name, r in (("sequential", seq), (f"{args.episodes} concurrent", par)):
        print(f"{name:>14}: {r['tokens']} tokens in {r['seconds']:.2f} s = {r['tokens_per_s']:.0f} tokens/s "
              f"({r['batches']} generate calls, largest batch {r['largest']})")
    print(f"speed-up: {par['tokens_per_s'] / seq['tokens_per_s']:.1f}x (target >= 5x)")


if __name__ == "__main__":
    main()
