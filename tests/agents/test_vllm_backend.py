"""The in-process vLLM backend: a real run where vLLM is installed, and its batching and output
parsing against a stand-in ``vllm`` module everywhere else."""

import sys
import threading
import types
from types import SimpleNamespace

import pytest

from arenas.agents.llm.backend import SamplingParams
from arenas.agents.llm.vllm_backend import VLLMBackend, completion_from_output


class _FakeLLM:
    def __init__(self, model, **options):
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.loaded = []
        self.resets = 0
        runner = SimpleNamespace(model=SimpleNamespace(load_weights=self.loaded.extend))
        self.llm_engine = SimpleNamespace(model_config=SimpleNamespace(max_model_len=512),
                                          model_executor=SimpleNamespace(
                                              driver_worker=SimpleNamespace(model_runner=runner)))
        self.calls = []

    def reset_prefix_cache(self):
        self.resets += 1

    def get_tokenizer(self):
        return self.tokenizer

    def generate(self, prompts, params, use_tqdm=True):
        self.calls.append(len(prompts))
        outs = []
        for p, sp in zip(prompts, params, strict=True):
            ids = [5 + (len(p["prompt_token_ids"]) + i) % 50 for i in range(sp.max_tokens)]
            logprobs = [{t: SimpleNamespace(logprob=-0.1 * (i + 1))} for i, t in enumerate(ids)]
            outs.append(SimpleNamespace(outputs=[SimpleNamespace(token_ids=ids, logprobs=logprobs, text="x",
                                                                 finish_reason="length")]))
        return outs


@pytest.fixture
def fake_vllm(monkeypatch):
    module = types.ModuleType("vllm")
    module.LLM = _FakeLLM
    module.SamplingParams = lambda **kw: SimpleNamespace(**kw)
    monkeypatch.setitem(sys.modules, "vllm", module)
    return module


def test_vllm_backend_batches_concurrent_requests(fake_vllm, tiny_model):
    backend = VLLMBackend(tiny_model, batch_wait_ms=200)
    assert backend.max_context == 512 and backend.eos_ids == [backend.tokenizer.eos_token_id]
    results = {}

    def call(i):
        results[i] = backend.generate(list(range(3 + i)), SamplingParams(max_tokens=2 + i, seed=i))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    backend.close()
    assert sum(backend.llm.calls) == 4 and max(backend.llm.calls) > 1
    for i, c in results.items():
        assert c.prompt_ids == list(range(3 + i)) and len(c.completion_ids) == 2 + i
        assert c.logprobs == pytest.approx([-0.1 * (k + 1) for k in range(2 + i)])
        assert c.finish_reason == "length"


def test_vllm_output_without_logprobs_is_marked():
    out = SimpleNamespace(outputs=[SimpleNamespace(token_ids=[1, 2], logprobs=None, text="ab", finish_reason="stop")])
    c = completion_from_output([9], out)
    assert c.completion_ids == [1, 2] and c.logprobs is None and c.finish_reason == "stop"


def test_real_vllm_engine(tiny_model):
    pytest.importorskip("vllm")
    backend = VLLMBackend(tiny_model, gpu_memory_utilization=0.2)
    c = backend.generate(backend.tokenizer.encode("hello"), SamplingParams(max_tokens=4))
    assert len(c.completion_ids) == len(c.logprobs) <= 4


def test_vllm_backend_loads_new_weights(fake_vllm, tiny_model):
    backend = VLLMBackend(tiny_model)
    backend.load_weights(iter([("lm_head.weight", 1), ("model.norm.weight", 2)]))
    assert backend.llm.loaded == [("lm_head.weight", 1), ("model.norm.weight", 2)] and backend.llm.resets == 1
    del backend.llm.llm_engine.model_executor
    with pytest.raises(NotImplementedError):
        backend.load_weights([])
