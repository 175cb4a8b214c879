"""The policy side of GRPO: the model being trained, its optimizer, and the update step.

``Learner.update(samples)`` applies μ passes over a batch of episodes, each pass split into
mini-batches (one optimizer step each) accumulated from micro-batches, with the loss normalised
over the whole mini-batch so accumulation is exact.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from arenas.agents.grpo.batch import Sample, TokenBatch, token_logprobs
from arenas.agents.grpo.config import GRPOConfig
from arenas.agents.grpo.data_parallel import DataParallel
from arenas.agents.grpo.losses import LossStats, aggregate, normalizer, token_losses
from arenas.agents.grpo.packing import check_packing_support, learner_batches


class Mismatch:
    """How far the sampler's recorded logprobs are from the learner's on the same tokens, before
    any update: k3 estimate of KL(sampler || learner) and the largest per-token gap. Non-zero
    when the two differ numerically (bf16 vs fp32, vLLM vs transformers) or the generator lags.
    Sums stay on the device until :meth:`means` (one sync)."""

    def __init__(self) -> None:
        self.parts: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []

    def add(self, learner: torch.Tensor, batch: TokenBatch) -> None:
        m = batch.loss_mask.bool()
        d = torch.where(m, learner.detach().float() - batch.sampler_logprobs, torch.zeros_like(batch.sampler_logprobs))
        self.parts.append(((torch.exp(d) - d - 1.0).sum(), m.sum(), d.abs().max()))

    def means(self) -> dict[str, float]:
        tokens = sum(float(n) for _, n, _ in self.parts)
        if not tokens:
            return {}
        kl = sum(float(k) for k, _, _ in self.parts)
        return {"mismatch_kl": max(kl, 0.0) / tokens, "mismatch_max_abs": max(float(x) for _, _, x in self.parts)}


def pick_device(name: str | None) -> torch.device:
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def load_policy(path: str, device: torch.device, config: GRPOConfig) -> tuple[Any, Any]:
    """The model (fp32 master weights; LoRA-wrapped when ``lora_rank`` > 0) and its tokenizer."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).to(device)
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})  # DDP-safe
        model.config.use_cache = False
    if config.lora_rank > 0:
        from peft import LoraConfig, get_peft_model

        lora = LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha, lora_dropout=0.0,
                          target_modules=config.lora_target, task_type="CAUSAL_LM")
        model = get_peft_model(model, lora)
    return model, tokenizer


def is_peft(model: torch.nn.Module) -> bool:
    """True for a peft-wrapped model (LoRA adapters on a frozen base)."""
    return type(model).__module__.startswith("peft")


class Learner:
    """Owns the trained model, the optimizer, the LR schedule and the optional frozen reference."""

    def __init__(self, model: torch.nn.Module, config: GRPOConfig, device: torch.device, pad_id: int = 0,
                 generation_budget: int | None = None, data_parallel: DataParallel | None = None):
        self.model = model
        self.dp = data_parallel or DataParallel(device=device)
        self.train_model = self.dp.wrap(model)
        """What the update's forward passes run: DDP around ``model`` under ``torchrun``, else ``model``."""
        self.config = config
        self.device = device
        self.pad_id = pad_id
        self.generation_budget = generation_budget or config.generation_budget()
        """dr_grpo's constant normaliser per sequence (the trainer passes the arenas' turn cap)."""
        self.bf16 = config.bf16 if config.bf16 is not None else device.type == "cuda"
        params = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=config.learning_rate, betas=config.adam_betas,
                                           weight_decay=config.weight_decay,
                                           fused=device.type == "cuda")
        warm = max(config.warmup_steps, 0)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: min(1.0, (s + 1) / warm) if warm else 1.0)
        self.reference = self._make_reference() if config.kl_coef > 0 else None
        if config.pack_tokens > 0:
            check_packing_support(model)

    def _make_reference(self) -> torch.nn.Module | None:
        """A frozen copy of the initial policy; with LoRA the base model (adapters off) serves."""
        if is_peft(self.model):
            return None
        import copy

        ref = copy.deepcopy(self.model).eval()
        for p in ref.parameters():
            p.requires_grad_(False)
        return ref

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.bf16:
            return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    @torch.no_grad()
    def _reference_logprobs(self, batch: TokenBatch) -> torch.Tensor:
        with self._autocast():
            if self.reference is not None:
                return token_logprobs(self.reference, batch, self.config.temperature)[0]
            with self.model.disable_adapter():
                return token_logprobs(self.model, batch, self.config.temperature)[0]

    @torch.no_grad()
    def _policy_logprobs(self, batch: TokenBatch) -> torch.Tensor:
        with self._autocast():
            return token_logprobs(self.model, batch, self.config.temperature)[0]

    def update(self, samples: Sequence[Sample]) -> dict[str, float]:
        """μ passes of clipped policy-gradient updates on ``samples``; returns update metrics."""
        cfg = self.config
        start = time.perf_counter()
        self.model.train()
        samples = self.dp.shard_samples(samples)
        batches = [b.to(self.device) for b in learner_batches(samples, cfg.micro_batch_size, cfg.pack_tokens,
                                                              self.pad_id)]
        have_sampler = all(b.sampler_logprobs is not None for b in batches)
        tis = cfg.tis_cap > 0 and have_sampler
        use_sampler = cfg.old_logprobs == "sampler" and have_sampler and not tis
        olds = [b.sampler_logprobs if use_sampler else self._policy_logprobs(b) for b in batches]
        weights: list[torch.Tensor | None] = [None] * len(batches)
        if tis:
            weights = [torch.exp(o - b.sampler_logprobs).clamp(max=cfg.tis_cap) * b.loss_mask
                       for o, b in zip(olds, batches, strict=True)]
        refs = [self._reference_logprobs(b) for b in batches] if cfg.kl_coef > 0 else [None] * len(batches)
        n_mini = self.dp.agree_max(max(1, min(cfg.minibatches, len(batches))))
        mismatch = Mismatch()
        if have_sampler and not use_sampler:
            for o, b in zip(olds, batches, strict=True):
                mismatch.add(o, b)
        stats = LossStats()
        loss_sum = entropy_sum = grad_norm_sum = 0.0
        optimizer_steps = 0
        trained_tokens = 0
        for p in range(cfg.mu):
            for m in range(n_mini):
                idx = list(range(m, len(batches), n_mini))
                norm = normalizer(cfg.loss, [batches[i].loss_mask for i in idx], self.generation_budget,
                                  reduce=self.dp.reduce_counts, sequences=[batches[i].episodes for i in idx])
                norm /= self.dp.world_size  # DDP averages the ranks' gradients
                steps = self.dp.agree_max(len(idx))
                for n, i in enumerate(idx):
                    b = batches[i]
                    with self._autocast(), self.dp.no_sync(self.train_model, accumulate=n < steps - 1):
                        logp, ent = token_logprobs(self.train_model, b, cfg.temperature,
                                                   with_entropy=cfg.log_entropy)
                    if use_sampler and p == 0 and m == 0:  # no optimizer step yet: the learner's own logprobs
                        mismatch.add(logp.detach(), b)
                    losses, s = token_losses(logp, olds[i], b.advantages, b.loss_mask, cfg.eps_low,
                                             cfg.eps_high, refs[i], cfg.kl_coef, weights[i])
                    loss = aggregate(losses, b.loss_mask, cfg.loss, norm, b.sequence_weights)
                    loss.backward()
                    loss_sum = loss_sum + loss.detach()
                    stats.add(s)
                    trained_tokens += b.tokens
                    if ent is not None:
                        entropy_sum = entropy_sum + (ent * b.loss_mask).sum()
                self.dp.idle_steps(self.train_model, steps - len(idx), self.pad_id)
                grad_norm_sum = grad_norm_sum + self._optimizer_step()
                optimizer_steps += 1
        means = stats.means()
        elapsed = time.perf_counter() - start
        tok = max(means["tokens"], 1.0)
        out = {
            "loss": float(loss_sum) / max(cfg.mu * n_mini, 1),
            "clip_fraction": means["clip_fraction"],
            "ratio_mean": means["ratio_mean"],
            "kl": means["kl"] if cfg.kl_coef > 0 else 0.0,
            "kl_to_old": means["kl_to_old"],
            "grad_norm": float(grad_norm_sum) / max(optimizer_steps, 1),
            "learning_rate": self.scheduler.get_last_lr()[0],
            "train_s": elapsed,
            "train_tokens": trained_tokens,
            "train_tokens_per_s": trained_tokens / elapsed if elapsed > 0 else 0.0,
            "optimizer_steps": optimizer_steps,
            **mismatch.means(),
        }
        if tis:
            w = sum(float(x.sum()) for x in weights)
            out["tis_weight_mean"] = w / max(sum(float(b.loss_mask.sum()) for b in batches), 1.0)
        if cfg.log_entropy:
            out["entropy"] = float(entropy_sum) / tok
        out["train_agent_tokens"] = means["tokens"]
        return self.dp.reduce_update_metrics(out)

    def _optimizer_step(self) -> torch.Tensor:
        """Clip, step, zero; returns the pre-clip gradient norm (a device tensor: no sync)."""
        params = [p for p in self.model.parameters() if p.requires_grad]
        max_norm = self.config.max_grad_norm if self.config.max_grad_norm > 0 else float("inf")
        norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return norm.detach()

    # ---- checkpoints ------------------------------------------------------------------------
    def save(self, directory: Path, tokenizer: Any, state: dict[str, Any]) -> None:
        """Model (adapters only with LoRA) + tokenizer, optimizer/scheduler state, trainer state."""
        directory.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(directory)
        if tokenizer is not None:
            tokenizer.save_pretrained(directory)
        torch.save({"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict()},
                   directory / "optimizer.pt")
        (directory / "trainer_state.json").write_text(json.dumps(state, indent=2))

    def load(self, directory: Path) -> dict[str, Any]:
        """Restores weights, optimizer and scheduler from :meth:`save`; returns the trainer state."""
        if is_peft(self.model):
            from peft import set_peft_model_state_dict
            from safetensors.torch import load_file

            set_peft_model_state_dict(self.model, load_file(str(directory / "adapter_model.safetensors")))
        else:
            from transformers import AutoModelForCausalLM

            loaded = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32)
            self.model.load_state_dict(loaded.state_dict())
        opt = torch.load(directory / "optimizer.pt", map_location=self.device, weights_only=False)
        self.optimizer.load_state_dict(opt["optimizer"])
        self.scheduler.load_state_dict(opt["scheduler"])
        return json.loads((directory / "trainer_state.json").read_text())
