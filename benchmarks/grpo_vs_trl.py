"""Policy-update throughput and peak memory: arenas' GRPO learner vs TRL's GRPOTrainer.

Both update the same random-init model (Qwen2.5-0.5B shape by default) on the same batch:
``batch`` sequences of ``prompt_len`` environment tokens + ``completion_len`` agent tokens,
``micro_batch`` sequences per forward/backward, one optimizer step per batch, bf16 autocast on
CUDA, no KL, entropy logged by both. Generation is taken out of both (TRL's
``_generate_and_score_completions`` returns the prepared batch), so the numbers are the update
alone: tokens (prompt + completion) processed per second, and peak GPU memory.

    python benchmarks/grpo_vs_trl.py                      # cuda, 0.5B preset
    python benchmarks/grpo_vs_trl.py --preset tiny --device cpu --steps 2   # smoke run
"""

from __future__ import annotations

import argparse
import gc
import json
import tempfile
import time
from pathlib import Path

import torch

PRESETS = {
    # Qwen2.5-0.5B's shape (~494M parameters with tied embeddings)
    "0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                 num_key_value_heads=2, vocab_size=151936),
    "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, vocab_size=2048),
}


def make_model_dir(root: Path, preset: str) -> tuple[Path, int]:
    """A random-init Qwen2 model with the tiny test tokenizer (token ids stay below its vocab)."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from arenas.agents.llm.tiny_model import create_tiny_model

    path = create_tiny_model(root / "model", vocab_size=512, hidden=32, layers=1, heads=2)
    config = Qwen2Config(**PRESETS[preset], max_position_embeddings=32768, tie_word_embeddings=True,
                         eos_token_id=2, pad_token_id=0, bos_token_id=0)
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config)
    model.save_pretrained(path)
    return path, sum(p.numel() for p in model.parameters())


def make_batch(n: int, prompt_len: int, completion_len: int, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {"prompt_ids": torch.randint(3, 500, (n, prompt_len), generator=g),
            "completion_ids": torch.randint(3, 500, (n, completion_len), generator=g),
            "advantages": torch.randn(n, generator=g)}


def _reset_memory(device: str) -> None:
    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _peak_gib(device: str) -> float:
    return torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else float("nan")


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def bench_arenas(model_dir: Path, batch: dict, args: argparse.Namespace) -> dict:
    from arenas.agents.grpo.batch import Sample
    from arenas.agents.grpo.config import GRPOConfig
    from arenas.agents.grpo.learner import Learner, load_policy

    _reset_memory(args.device)
    cfg = GRPOConfig(model=str(model_dir), learning_rate=1e-6, micro_batch_size=args.micro_batch, mu=1,
                     minibatches=1, bf16=args.device == "cuda", device=args.device, log_entropy=True,
                     loss=args.loss, max_agent_tokens=args.completion_len, old_logprobs="policy"
                     if args.recompute_old else "sampler")
    device = torch.device(args.device)
    model, tok = load_policy(cfg.model, device, cfg)
    learner = Learner(model, cfg, device, pad_id=tok.pad_token_id)
    p, c = args.prompt_len, args.completion_len
    samples = [Sample(ids=batch["prompt_ids"][i].tolist() + batch["completion_ids"][i].tolist(),
                      mask=[0] * p + [1] * c, logprobs=[0.0] * p + [-1.0] * c,
                      advantage=float(batch["advantages"][i])) for i in range(len(batch["advantages"]))]
    times = []
    for step in range(args.warmup + args.steps):
        _sync(args.device)
        t0 = time.perf_counter()
        learner.update(samples)
        _sync(args.device)
        if step >= args.warmup:
            times.append(time.perf_counter() - t0)
    tokens = len(samples) * (p + c)
    out = {"tokens_per_s": tokens * len(times) / sum(times), "step_s": sum(times) / len(times),
           "peak_gib": _peak_gib(args.device)}
    del learner, model
    return out


def bench_trl(model_dir: Path, batch: dict, args: argparse.Namespace) -> dict:
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    _reset_memory(args.device)
    n = len(batch["advantages"])
    accumulation = n // args.micro_batch
    config = GRPOConfig(
        output_dir=str(Path(args.tmp) / "trl"), per_device_train_batch_size=args.micro_batch,
        gradient_accumulation_steps=accumulation, num_generations=args.group_size,
        max_completion_length=args.completion_len, learning_rate=1e-6, beta=0.0, num_iterations=1,
        loss_type=args.loss, bf16=args.device == "cuda", use_cpu=args.device == "cpu",
        max_steps=args.warmup + args.steps, logging_steps=10_000, save_strategy="no", report_to=[],
        use_vllm=False, gradient_checkpointing=False, dataloader_num_workers=0, seed=0)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(model_dir)
    dataset = Dataset.from_dict({"prompt": ["x"] * (n * (args.warmup + args.steps + 1))})
    trainer = GRPOTrainer(model=model, reward_funcs=lambda completions, **kw: [0.0] * len(completions),
                          args=config, train_dataset=dataset, processing_class=tok)
    device = trainer.accelerator.device
    p, c = args.prompt_len, args.completion_len
    prepared = {
        "prompt_ids": batch["prompt_ids"].to(device), "prompt_mask": torch.ones(n, p, dtype=torch.long, device=device),
        "completion_ids": batch["completion_ids"].to(device),
        "completion_mask": torch.ones(n, c, dtype=torch.long, device=device),
        "advantages": batch["advantages"].to(device),
        "num_items_in_batch": torch.tensor(float(n * c), device=device),
    }
    trainer._generate_and_score_completions = lambda generation_batch: dict(prepared)
    times: list[float] = []

    class StepTimer(TrainerCallback):
        def on_step_begin(self, *a, **k):
            _sync(args.device)
            self.t0 = time.perf_counter()

        def on_step_end(self, *a, **k):
            _sync(args.device)
            times.append(time.perf_counter() - self.t0)

    trainer.add_callback(StepTimer())
    trainer.train()
    measured = times[args.warmup:]
    out = {"tokens_per_s": n * (p + c) * len(measured) / sum(measured), "step_s": sum(measured) / len(measured),
           "peak_gib": _peak_gib(args.device)}
    del trainer, model
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS), default="0.5b")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch", type=int, default=32, help="sequences per optimizer step")
    ap.add_argument("--group-size", type=int, default=8, help="TRL's num_generations (divides --batch)")
    ap.add_argument("--micro-batch", type=int, default=8, help="sequences per forward/backward")
    ap.add_argument("--prompt-len", type=int, default=512)
    ap.add_argument("--completion-len", type=int, default=512)
    ap.add_argument("--loss", default="grpo", choices=["grpo", "dr_grpo", "dapo"])
    ap.add_argument("--recompute-old", action="store_true",
                    help="arenas recomputes old logprobs (an extra forward) instead of using the sampler's")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--only", choices=["both", "arenas", "trl"], default="both")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    if args.only == "both":
        results = _both(args)
    else:
        results = _one(args)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def _one(args: argparse.Namespace) -> dict:
    if args.device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
    with tempfile.TemporaryDirectory() as tmp:
        args.tmp = tmp
        model_dir, n_params = make_model_dir(Path(tmp), args.preset)
        batch = make_batch(args.batch, args.prompt_len, args.completion_len)
        if args.only == "trl":
            import trl

            return {**bench_trl(model_dir, batch, args), "version": trl.__version__, "parameters": n_params}
        return {**bench_arenas(model_dir, batch, args), "parameters": n_params}


def _both(args: argparse.Namespace) -> dict:
    """Each trainer in its own process (same GPU, one after the other), so neither inherits the
    other's allocator state or thread settings."""
    import subprocess
    import sys

    setup = {k: v for k, v in vars(args).items() if k not in ("json", "only")}
    results: dict = {"setup": setup}
    if args.device == "cuda":
        setup["gpu"] = torch.cuda.get_device_name()
    forwarded = list(sys.argv[1:])
    for name in ("arenas", "trl"):
        with tempfile.NamedTemporaryFile(suffix=".json") as f:
            cmd = [sys.executable, __file__, *forwarded, "--only", name, "--json", f.name]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            results[name] = json.loads(Path(f.name).read_text())
    results["throughput_ratio_arenas_over_trl"] = results["arenas"]["tokens_per_s"] / results["trl"]["tokens_per_s"]
    if args.device == "cuda":
        results["peak_memory_ratio_arenas_over_trl"] = results["arenas"]["peak_gib"] / results["trl"]["peak_gib"]
    return results


if __name__ == "__main__":
    main()
