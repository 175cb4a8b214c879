"""The ``vllm`` backend: an in-process ``vllm.LLM`` behind the micro-batching queue.

vLLM batches continuously inside one ``generate`` call; the queue gathers the prompts of
concurrent episodes so that they reach it together. Prompts go in as token ids and the sampled
ids and their logprobs (``logprobs=0``: the sampled token's only) come back, as with ``hf``.
vLLM is an optional extra (``pip install arenas[vllm]``, Linux + CUDA).
"""

from __future__ import annotations

import time
from typing import Any

from arenas.agents.llm.backend import Completion, MicroBatcher, TokenRequest
from arenas.agents.llm.template import stop_ids


class VLLMBackend:
    kind = "tokens"

    def __init__(self, path: str, max_batch: int = 256, batch_wait_ms: float = 50.0, **engine_options: Any):
        try:
            import vllm
        except ImportError as e:
            raise ImportError("the vllm backend needs vLLM: pip install 'arenas[vllm]'") from e
        self.path = path
        if "logprobs_mode" in getattr(getattr(vllm, "EngineArgs", None), "__dataclass_fields__", {}):
            # the logprobs of the tempered distribution a token was sampled from (what a trainer
            # recomputes at the sampling temperature), not vLLM's default raw-logit ones
            engine_options.setdefault("logprobs_mode", "processed_logprobs")
        self.llm = vllm.LLM(model=path, **engine_options)
        self.tokenizer = self.llm.get_tokenizer()
        self.max_context = int(self.llm.llm_engine.model_config.max_model_len)
        self.eos_ids = stop_ids(self.tokenizer)
        self.batcher: MicroBatcher[TokenRequest, Completion] = MicroBatcher(
            self._run_batch, max_batch=max_batch, max_wait_s=batch_wait_ms / 1000, name="vllm-generate")

    def generate(self, prompt_ids: list[int], params: Any) -> Completion:
        return self.batcher.submit(TokenRequest(list(prompt_ids), params))

    def _run_batch(self, requests: list[TokenRequest]) -> list[Completion]:
        import vllm

        start = time.perf_counter()
        prompts = [{"prompt_token_ids": r.prompt_ids} for r in requests]
        params = [vllm.SamplingParams(temperature=r.params.temperature, top_p=r.params.top_p,
                                      max_tokens=r.params.max_tokens, seed=r.params.seed, logprobs=0,
                                      stop_token_ids=self.eos_ids)
                  for r in requests]
        outputs = self.llm.generate(prompts, params, use_tqdm=False)
        latency = time.perf_counter() - start
        return [completion_from_output(r.prompt_ids, o, latency) for r, o in zip(requests, outputs, strict=True)]

    def load_weights(self, named_tensors: Any) -> None:
        """Loads new weights into the engine's model (a trainer's weight sync): ``named_tensors``
        yields (name, tensor) pairs named as the Hugging Face checkpoint. Uses the in-process
        model of vLLM's single-GPU executor; cached prefixes computed with the old weights are
        dropped."""
        try:
            model = self.llm.llm_engine.model_executor.driver_worker.model_runner.model
        except AttributeError as e:
            raise NotImplementedError("this vLLM version does not expose its model in-process; sync weights "
                                      "through a vLLM server instead") from e
        model.load_weights(list(named_tensors))
        reset = getattr(self.llm, "reset_prefix_cache", None)
        if reset is not None:
            reset()

    def close(self) -> None:
        self.batcher.close()


def completion_from_output(prompt_ids: list[int], output: Any, latency: float = 0.0) -> Completion:
    """A ``vllm.RequestOutput`` -> Completion. ``output.outputs[0].logprobs`` holds one
    ``{token_id: Logprob}`` dict per sampled token."""
    sample = output.outputs[0]
    ids = list(sample.token_ids)
    logprobs = [float(step[t].logprob) for step, t in zip(sample.logprobs or [], ids, strict=False)]
    return Completion(text=sample.text, prompt_ids=list(prompt_ids), completion_ids=ids,
                      logprobs=logprobs if len(logprobs) == len(ids) else None,
                      finish_reason="length" if sample.finish_reason == "length" else "stop", latency=latency,
                      usage={"prompt_tokens": len(prompt_ids), "completion_tokens": len(ids)})
