"""The ``vllm`` backend: an in-process ``vllm.LLM`` behind the micro-batching queue.

vLLM batches continuously inside one ``generate`` call; the queue gathers the prompts of
concurrent episodes so that they reach it together. Prompts go in as token ids and the sampled
ids and their logprobs (``logprobs=0``: the sampled token's only) come back, as with ``hf``.
vLLM is an optional extra (``pip install arenas[vllm]``, Linux + CUDA).

A trainer on the same GPU can free the engine's memory during its updates: ``enable_sleep_mode=True``
creates the engine with vLLM's sleep mode, :meth:`VLLMBackend.sleep` offloads the weights to CPU
and drops the KV cache, :meth:`VLLMBackend.wake_up` brings them back.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from arenas.agents.llm.backend import BackendError, Completion, MicroBatcher, TokenRequest
from arenas.agents.llm.template import stop_ids
from arenas.agents.llm.vllm_worker import LOAD

WORKER_EXTENSION = "arenas.agents.llm.vllm_worker.WeightSync"


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
        if "worker_extension_cls" in getattr(getattr(vllm, "EngineArgs", None), "__dataclass_fields__", {}):
            # lets load_weights reach workers in other processes (vLLM's V1 engine core)
            engine_options.setdefault("worker_extension_cls", WORKER_EXTENSION)
        self.sleep_mode = bool(engine_options.get("enable_sleep_mode"))
        self.asleep: set[str] = set()
        """Parts of the engine offloaded by :meth:`sleep` (``weights``, ``kv_cache``)."""
        self._versions = 0
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

        if self.asleep:
            raise BackendError(f"the vLLM engine is asleep ({', '.join(sorted(self.asleep))} offloaded): "
                               "wake_up() before generating")
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
        yields (name, tensor) pairs named as the Hugging Face checkpoint. Uses the model of an
        in-process executor when vLLM exposes it, else has every worker load a safetensors file
        through ``collective_rpc`` and the :data:`WORKER_EXTENSION`. Cached prefixes computed
        with the old weights are dropped. A sleeping engine wakes its weights first and its KV
        cache after the load, so the two never hold the GPU alongside a second copy."""
        self.wake_up(["weights"])
        model = _in_process_model(self.llm)
        if model is not None:
            model.load_weights(list(named_tensors))
        elif hasattr(self.llm, "collective_rpc"):
            self._load_through_workers(named_tensors)
        else:
            raise NotImplementedError("this vLLM version exposes neither its model in-process nor collective_rpc; "
                                      "sync weights through a vLLM server instead (weight_sync_dir)")
        self.wake_up(["kv_cache"])
        reset = getattr(self.llm, "reset_prefix_cache", None)
        if reset is not None:
            reset()

    def _load_through_workers(self, named_tensors: Any) -> None:
        from arenas.agents.llm.weight_sync import WeightSyncError, write_weights

        self._versions += 1
        with tempfile.TemporaryDirectory(prefix="arenas-weights-") as tmp:
            path = Path(tmp) / "weights.safetensors"
            written = write_weights(named_tensors, path).as_dict()
            results = self.llm.collective_rpc(LOAD, args=(str(path), str(self._versions), str(path.stat().st_size)))
        for got in results or [None]:
            if not isinstance(got, dict) or {k: got.get(k) for k in ("tensors", "numel")} != \
                    {k: written[k] for k in ("tensors", "numel")}:
                raise WeightSyncError(f"a vLLM worker answered {got!r} to loading {written!r} (is the engine "
                                      f"created with worker_extension_cls={WORKER_EXTENSION}?)")

    def sleep(self, level: int = 1) -> None:
        """Frees the GPU for a trainer's update: level 1 offloads the weights to CPU and drops the
        KV cache (needs ``enable_sleep_mode=True``)."""
        if not self.sleep_mode:
            raise RuntimeError("the vLLM engine was created without enable_sleep_mode=True")
        if not self.asleep:
            self.llm.sleep(level=level)
            self.asleep = {"weights", "kv_cache"}

    def wake_up(self, tags: list[str] | None = None) -> None:
        """Brings back the offloaded parts (``tags``: ``weights`` and/or ``kv_cache``; None: all).
        Waking the weights first lets new weights load before the KV cache takes its memory."""
        wanted = set(tags) if tags else set(self.asleep)
        if not wanted & self.asleep:
            return
        try:
            self.llm.wake_up(tags=sorted(wanted & self.asleep))
            self.asleep -= wanted
        except TypeError:  # a vLLM without tagged wake-up: everything at once
            self.llm.wake_up()
            self.asleep = set()

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


def _in_process_model(llm: Any) -> Any:
    """The engine's ``nn.Module`` where the executor runs in this process (vLLM's V0 single-GPU
    executor, or V1 with ``VLLM_ENABLE_V1_MULTIPROCESSING=0``), else None."""
    executor = getattr(getattr(llm, "llm_engine", None), "model_executor", None)
    worker = getattr(executor, "driver_worker", None)
    for holder in (worker, getattr(worker, "worker", None)):
        model = getattr(getattr(holder, "model_runner", None), "model", None)
        if model is not None and hasattr(model, "load_weights"):
            return model
    return None
