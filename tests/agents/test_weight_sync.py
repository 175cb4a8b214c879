"""Weight sync to a vLLM server: the worker extension against a vLLM-style worker, and the
trainer-side pusher against a stand-in server on 127.0.0.1 (tests/agents/vllm_standin.py)."""

import pytest
import torch

from arenas.agents.llm.vllm_worker import LOAD, READY
from arenas.agents.llm.weight_sync import VLLMServerSync, WeightSyncError, write_weights
from arenas.config import ConfigError
from tests.agents.vllm_standin import ServedModel, StandInVLLM, Worker


def _model(path):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(path)


def _nudged(path, seed=1):
    model = _model(path)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=g))
    return model


def _same(a, b):
    sb = b.state_dict()
    return all(torch.equal(t, sb[n]) for n, t in a.state_dict().items())


def test_the_worker_extension_loads_the_file_into_its_model(tiny_model, tmp_path):
    served, trained = _model(tiny_model), _nudged(tiny_model)
    log = []
    worker = Worker(ServedModel(served, log))
    assert getattr(worker, READY)()["ready"]
    path = tmp_path / "w.safetensors"
    written = write_weights(trained.state_dict().items(), path)
    got = getattr(worker, LOAD)(str(path), "7", str(path.stat().st_size))
    assert got == {"version": "7", **written.as_dict()}
    assert _same(served, trained)
    # tied lm_head/embeddings are written once; vLLM ties them itself
    assert set(worker.model_runner.model.received) == set(trained.state_dict()) - {"lm_head.weight"}


def test_the_worker_extension_refuses_a_partial_file(tiny_model, tmp_path):
    served = _model(tiny_model)
    worker = Worker(ServedModel(served, []))
    path = tmp_path / "w.safetensors"
    write_weights(_nudged(tiny_model).state_dict().items(), path)
    with pytest.raises(ValueError, match="partial"):
        getattr(worker, LOAD)(str(path), "1", str(path.stat().st_size + 10))
    assert _same(served, _model(tiny_model))  # nothing loaded


@pytest.fixture
def standin(tiny_model):
    server = StandInVLLM(tiny_model).start()
    yield server
    server.stop()


def test_pushes_reach_every_worker_and_reset_the_prefix_cache(standin, tiny_model, tmp_path):
    sync = VLLMServerSync(standin.url, tmp_path / "sync")
    try:
        assert sync.probe() == 2
        for seed in (1, 2):
            trained = _nudged(tiny_model, seed)
            stats = sync.push(trained.state_dict().items())
            assert _same(standin.model, trained)  # what the server holds is the trainer's current weights
            for worker in standin.workers:
                received = worker.model_runner.model.received
                assert all(torch.equal(t, trained.state_dict()[n]) for n, t in received.items())
        assert stats["sync_workers"] == 2 and stats["sync_bytes"] > 0
        assert standin.log == [f"rpc:{READY}"] + [f"rpc:{LOAD}", "reset_prefix_cache"] * 2
        assert [p.name for p in (tmp_path / "sync").iterdir()] == ["weights-000002.safetensors"]
    finally:
        sync.close()


def test_a_bf16_push_serves_the_rounded_weights(standin, tiny_model, tmp_path):
    trained = _nudged(tiny_model)
    sync = VLLMServerSync(standin.url, tmp_path, dtype="bfloat16")
    try:
        sync.push(trained.state_dict().items())
    finally:
        sync.close()
    served = standin.model.state_dict()
    for name, t in trained.state_dict().items():
        assert torch.equal(served[name], t.to(torch.bfloat16).float()), name


def test_a_worker_that_read_other_bytes_fails_the_push(standin, tiny_model, tmp_path):
    def tamper(method, args):  # the file changes under the server (same size, other values)
        if method == LOAD:
            state = _nudged(tiny_model, seed=9).state_dict()
            write_weights(state.items(), tmp_path / "other.safetensors")
            (tmp_path / "other.safetensors").replace(args[0])

    standin.before_rpc = tamper
    sync = VLLMServerSync(standin.url, tmp_path)
    try:
        with pytest.raises(WeightSyncError, match="was written"):
            sync.push(_nudged(tiny_model).state_dict().items())
    finally:
        sync.close()
    assert "reset_prefix_cache" not in standin.log


def test_a_server_without_dev_mode_or_the_extension_is_refused_clearly(hf_backend, standin, tiny_model, tmp_path):
    from arenas.agents.llm.server import ChatServer

    plain = ChatServer(hf_backend, tiny_model, port=0).start()
    syncs = [VLLMServerSync(plain.url, tmp_path), VLLMServerSync(standin.url, tmp_path)]
    try:
        with pytest.raises(ConfigError, match="VLLM_SERVER_DEV_MODE=1"):
            syncs[0].probe()
        standin.workers = [object()]  # a worker without the extension: the method does not exist
        with pytest.raises(ConfigError, match="worker-extension-cls arenas.agents.llm.vllm_worker.WeightSync"):
            syncs[1].probe()
    finally:
        plain.stop()
        for s in syncs:
            s.close()
