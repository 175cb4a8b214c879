"""The ``hf`` backend: transformers ``generate`` behind a micro-batching queue, CPU or CUDA.

Concurrent episodes submit prompts; the queue's worker left-pads them into one batch and runs
one ``generate`` call (with the KV cache), then cuts each row at its end-of-turn token or its
own ``max_tokens``. Logprobs are those of the tempered distribution the token was sampled from
(``log_softmax(logits / temperature)``, before top-p), which is what a trainer recomputes when it
divides its logits by the same temperature (raw logits at temperature 0). Requests with
different temperature or top-p run as separate groups of the batch; per-request seeds are not
honoured (rows of one batch share torch's generator).
"""

from __future__ import annotations

import time
from itertools import groupby
from typing import Any

from arenas.agents.llm.backend import Completion, MicroBatcher, SamplingParams, TokenRequest
from arenas.agents.llm.template import stop_ids


def resolve_device(device: str = "auto") -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class HFBackend:
    """A transformers causal LM loaded with ``from_pretrained`` from a local path."""

    kind = "tokens"

    def __init__(self, path: str, device: str = "auto", dtype: str | None = None, max_batch: int = 64,
                 batch_wait_ms: float = 50.0, model: Any = None, tokenizer: Any = None):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.path = path
        self.device = resolve_device(device)
        self.tokenizer = tokenizer or AutoTokenizer.from_pretrained(path)
        if model is None:
            torch_dtype = getattr(torch, dtype) if dtype else (torch.bfloat16 if self.device == "cuda"
                                                               else torch.float32)
            model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype)
            model.to(self.device)
        self.model = model.eval()
        eos = getattr(self.model.generation_config, "eos_token_id", None)
        self.eos_ids = stop_ids(self.tokenizer, list(eos) if isinstance(eos, (list, tuple)) else
                                [eos] if eos is not None else [])
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.eos_ids[0]
        self.max_context = int(getattr(self.model.config, "max_position_embeddings", 0) or 32768)
        self.batcher: MicroBatcher[TokenRequest, Completion] = MicroBatcher(
            self._run_batch, max_batch=max_batch, max_wait_s=batch_wait_ms / 1000, name="hf-generate")

    def generate(self, prompt_ids: list[int], params: SamplingParams) -> Completion:
        """Blocking; batched with the calls other threads make at the same time."""
        return self.batcher.submit(TokenRequest(list(prompt_ids), params))

    def _run_batch(self, requests: list[TokenRequest]) -> list[Completion]:
        out: dict[int, Completion] = {}
        order = sorted(range(len(requests)), key=lambda i: _sampling_key(requests[i].params))
        for _, group in groupby(order, key=lambda i: _sampling_key(requests[i].params)):
            idx = list(group)
            for i, c in zip(idx, self._generate([requests[i] for i in idx]), strict=True):
                out[i] = c
        return [out[i] for i in range(len(requests))]

    def _generate(self, requests: list[TokenRequest]) -> list[Completion]:
        import torch

        start = time.perf_counter()
        width = max(len(r.prompt_ids) for r in requests)
        input_ids = torch.full((len(requests), width), self.pad_id, dtype=torch.long)
        attention = torch.zeros((len(requests), width), dtype=torch.long)
        for row, r in enumerate(requests):
            input_ids[row, width - len(r.prompt_ids):] = torch.tensor(r.prompt_ids)
            attention[row, width - len(r.prompt_ids):] = 1
        params = requests[0].params
        recorder = _SampledLogprobs(params.temperature, params.top_p)
        with torch.inference_mode():
            gen = self.model.generate(
                input_ids=input_ids.to(self.device), attention_mask=attention.to(self.device),
                max_new_tokens=max(r.params.max_tokens for r in requests), eos_token_id=self.eos_ids,
                pad_token_id=self.pad_id, do_sample=False, logits_processor=[recorder],
                return_dict_in_generate=True, **_NEUTRAL)
            new = gen.sequences[:, width:]
            logprobs = recorder.finish(new[:, -1])
        new, logprobs = new.tolist(), logprobs.tolist()
        latency = time.perf_counter() - start
        results = []
        for row, r in enumerate(requests):
            ids, finish = [], "length"
            for tok in new[row][:r.params.max_tokens]:
                ids.append(tok)
                if tok in self.eos_ids:
                    finish = "stop"
                    break
            results.append(Completion(
                text=self.tokenizer.decode(ids, skip_special_tokens=False), prompt_ids=r.prompt_ids,
                completion_ids=ids, logprobs=logprobs[row][:len(ids)], finish_reason=finish, latency=latency,
                usage={"prompt_tokens": len(r.prompt_ids), "completion_tokens": len(ids)}))
        return results

    def close(self) -> None:
        self.batcher.close()


_NEUTRAL: dict[str, Any] = {"repetition_penalty": 1.0, "no_repeat_ngram_size": 0}
"""Overrides the logit-changing defaults a model's ``generation_config`` may ship (Qwen's set a
repetition penalty). ``generate`` runs greedy (``do_sample=False``, so the shipped top-k/top-p
never apply); :class:`_SampledLogprobs` does the sampling."""


class _SampledLogprobs:
    """The only logits processor of a greedy ``generate`` call. It sees the raw logits of every
    step and keeps the log-softmax of the last one (not of all steps: with a 150k vocabulary that
    would be gigabytes) to read the sampled token's logprob one step later. The kept log-softmax is
    of the tempered logits (the sampling distribution). To sample it applies top-p and adds
    Gumbel noise, so that greedy's argmax is an exact sample from the warped distribution (and
    cheaper than ``torch.multinomial`` on CPU)."""

    def __init__(self, temperature: float, top_p: float):
        self.temperature = temperature
        self.top_p = top_p
        self.previous: Any = None
        self.steps: list[Any] = []

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        if self.previous is not None:
            self.steps.append(self.previous.gather(1, input_ids[:, -1:])[:, 0])
        tempered = self.temperature > 0 and self.temperature != 1.0
        logits = scores.float() / self.temperature if tempered else scores.float()
        self.previous = torch.log_softmax(logits, dim=-1)
        if self.temperature <= 0:
            return scores
        warped = self.previous
        if self.top_p < 1.0:
            ordered, order = torch.sort(warped, descending=False)
            drop = ordered.softmax(dim=-1).cumsum(dim=-1) <= 1 - self.top_p
            drop[:, -1] = False
            warped = warped.masked_fill(drop.scatter(1, order, drop), float("-inf"))
        return warped - torch.log(-torch.log(torch.rand_like(warped)))

    def finish(self, last_tokens: Any) -> Any:
        """[batch, steps] logprobs of the sampled tokens; ``last_tokens`` are the final step's."""
        import torch

        self.steps.append(self.previous.gather(1, last_tokens[:, None])[:, 0])
        return torch.stack(self.steps, dim=1)


def _sampling_key(p: SamplingParams) -> tuple[float, float]:
    return (p.temperature, p.top_p if p.temperature > 0 else 1.0)
