"""The in-process vLLM backend's weight loading through its workers (vLLM's V1 engine runs them in
another process) and its sleep mode, against a stand-in ``vllm`` module (vLLM is not installed here)."""

import dataclasses
import sys
import types
from types import SimpleNamespace

import pytest
import torch

from arenas.agents.llm.vllm_backend import WORKER_EXTENSION, VLLMBackend
from arenas.agents.llm.weight_sync import WeightSyncError
from tests.agents.vllm_standin import ServedModel, Worker


@dataclasses.dataclass
class _EngineArgs:  # the fields of vllm.EngineArgs that the backend looks for
    logprobs_mode: str = "raw_logprobs"
    worker_extension_cls: str = ""
    enable_sleep_mode: bool = False


class _WorkerLLM:
    """An engine whose model lives in worker processes: reachable only through collective_rpc."""

    def __init__(self, model, **options):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.options = options
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.served = AutoModelForCausalLM.from_pretrained(model)
        self.workers = [Worker(ServedModel(self.served, [])) for _ in range(2)]
        self.llm_engine = SimpleNamespace(model_config=SimpleNamespace(max_model_len=512))
        self.calls = []

    def get_tokenizer(self):
        return self.tokenizer

    def collective_rpc(self, method, timeout=None, args=(), kwargs=None):
        self.calls.append(method)
        return [getattr(w, method)(*args, **(kwargs or {})) for w in self.workers]

    def reset_prefix_cache(self):
        self.calls.append("reset_prefix_cache")

    def sleep(self, level=1):
        self.calls.append(f"sleep({level})")

    def wake_up(self, tags=None):
        self.calls.append(f"wake_up({tags})")


@pytest.fixture
def worker_vllm(monkeypatch):
    module = types.ModuleType("vllm")
    module.LLM = _WorkerLLM
    module.EngineArgs = _EngineArgs
    module.SamplingParams = lambda **kw: SimpleNamespace(**kw)
    monkeypatch.setitem(sys.modules, "vllm", module)


def _trained(path):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(path)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(0.5)
    return model


def test_weights_reach_out_of_process_workers_through_the_extension(worker_vllm, tiny_model):
    backend = VLLMBackend(tiny_model)
    try:
        engine = backend.llm
        assert engine.options["worker_extension_cls"] == WORKER_EXTENSION
        assert engine.options["logprobs_mode"] == "processed_logprobs"
        trained = _trained(tiny_model)
        backend.load_weights(trained.state_dict().items())
        served = engine.served.state_dict()
        assert all(torch.equal(served[n], t) for n, t in trained.state_dict().items())
        assert engine.calls == ["arenas_load_weights", "reset_prefix_cache"]
        engine.workers[1].arenas_load_weights = lambda *a: {"version": a[1], "tensors": 0, "numel": 0}
        with pytest.raises(WeightSyncError, match="worker_extension_cls"):
            backend.load_weights(trained.state_dict().items())
    finally:
        backend.close()


def test_sleep_mode_offloads_and_wakes_in_order(worker_vllm, tiny_model):
    backend = VLLMBackend(tiny_model, enable_sleep_mode=True)
    try:
        backend.sleep()
        backend.sleep()  # already asleep: no second call
        from arenas.agents.llm.backend import BackendError, SamplingParams

        with pytest.raises(BackendError, match="asleep"):
            backend.generate([1, 2, 3], SamplingParams(max_tokens=2))
        backend.load_weights(_trained(tiny_model).state_dict().items())
        backend.wake_up()  # awake already: nothing to do
        assert backend.llm.calls == ["sleep(1)", "wake_up(['weights'])", "arenas_load_weights",
                                     "wake_up(['kv_cache'])", "reset_prefix_cache"]
    finally:
        backend.close()
    plain = VLLMBackend(tiny_model)
    try:
        with pytest.raises(RuntimeError, match="enable_sleep_mode"):
            plain.sleep()
    finally:
        plain.close()
