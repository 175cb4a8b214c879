"""One rank of the data-parallel checks, launched by test_data_parallel.py through
``python -m torch.distributed.run``: learner updates on fixed samples for each loss variant, then
a short GRPO run. Every rank saves what it ended with under ``OUT``."""

import sys
from pathlib import Path

import torch

from arenas.agents.grpo.batch import Sample
from arenas.agents.grpo.config import GRPOConfig
from arenas.agents.grpo.data_parallel import DataParallel
from arenas.agents.grpo.learner import Learner, load_policy

VARIANTS = ("grpo", "dr_grpo", "dapo")


def fixed_samples() -> list[Sample]:
    """Seven episodes of uneven lengths and agent-token counts (the ranks' shares differ in
    sequences, tokens and micro-batches), with sampler logprobs."""
    g = torch.Generator().manual_seed(0)
    out = []
    for i, adv in enumerate([1.0, -1.0, 0.5, -0.5, 0.25, -0.75, 1.5]):
        n = 8 + 5 * i
        ids = torch.randint(5, 500, (n,), generator=g).tolist()
        mask = [0] * 4 + [1] * (2 + i) + [0] * 2 + [1] * (n - 8 - i)
        logprobs = [-1.0 - 0.1 * (k % 5) if m else 0.0 for k, m in enumerate(mask)]
        out.append(Sample(ids, mask, logprobs, adv))
    return out


def learner_update(model_dir: str, variant: str, dp: DataParallel, n: int | None = None) -> tuple[dict, dict]:
    """Two passes (mu=2) of updates on the first ``n`` of :func:`fixed_samples`; the final weights
    and the metrics."""
    torch.manual_seed(0)
    cfg = GRPOConfig(model=model_dir, loss=variant, learning_rate=1e-2, mu=2, micro_batch_size=2,
                     log_entropy=True, old_logprobs="sampler", device="cpu")
    model, tok = load_policy(cfg.model, torch.device("cpu"), cfg)
    learner = Learner(model, cfg, torch.device("cpu"), pad_id=tok.pad_token_id, generation_budget=32,
                      data_parallel=dp)
    metrics = learner.update(fixed_samples()[:n])
    return {k: v.detach().clone() for k, v in model.state_dict().items()}, metrics


def main() -> None:
    model_dir, out = sys.argv[1], Path(sys.argv[2])
    dp = DataParallel.from_env("cpu")
    assert dp.world_size == 2, dp
    for variant in VARIANTS:
        state, metrics = learner_update(model_dir, variant, dp)
        torch.save({"state": state, "metrics": metrics}, out / f"{variant}-rank{dp.rank}.pt")
    state, metrics = learner_update(model_dir, "dapo", dp, n=1)  # rank 1 gets no sample at all
    torch.save({"state": state, "metrics": metrics}, out / f"dapo-1-rank{dp.rank}.pt")

    import arenas
    from arenas.agents.grpo.trainer import GRPOTrainer
    from tests.grpo.test_trainer import ReplyArena

    arenas.register("guess", ReplyArena)
    cfg = GRPOConfig(model=model_dir, out=str(out / "run"), steps=2, tasks_per_step=2, group_size=2,
                     max_new_tokens=8, learning_rate=1e-3, max_dead_steps=0, tensorboard=False, seed=3,
                     arenas=[{"arena": "guess", "config": {"max_turns": 1}}])
    trainer = GRPOTrainer(cfg)
    try:
        trainer.train(progress=False)
        state = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
        torch.save({"state": state}, out / f"trainer-rank{dp.rank}.pt")
    finally:
        trainer.close()


if __name__ == "__main__":
    main()
