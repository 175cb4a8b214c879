"""The micro-batching queue and the hf backend's batched generation."""

import threading

import pytest

from arenas.agents.llm.backend import MicroBatcher, SamplingParams
from tests.agents.conftest import forward_logprobs


def _concurrently(fn, args):
    results, errors = {}, {}

    def call(i, a):
        try:
            results[i] = fn(a)
        except Exception as e:
            errors[i] = e

    threads = [threading.Thread(target=call, args=(i, a)) for i, a in enumerate(args)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def test_micro_batcher_gathers_concurrent_calls_and_propagates_errors():
    seen = []

    def run(batch):
        seen.append(list(batch))
        if "bad" in batch:
            raise RuntimeError("batch failed")
        return [x * 2 for x in batch]

    batcher = MicroBatcher(run, max_batch=8, max_wait_s=0.2)
    results, errors = _concurrently(batcher.submit, [1, 2, 3, 4])
    assert results == {0: 2, 1: 4, 2: 6, 3: 8} and not errors
    assert len(seen) < 4 and batcher.batch_sizes == [len(b) for b in seen]
    results, errors = _concurrently(batcher.submit, ["bad"])
    assert isinstance(errors[0], RuntimeError) and not results
    assert batcher.submit(5) == 10  # the worker survives a failed batch
    batcher.close()


def test_batched_generation_matches_unbatched_model(hf_backend, tiny_model):
    from transformers import AutoModelForCausalLM

    tok = hf_backend.tokenizer
    prompts = [tok.encode("SELECT name FROM orders", add_special_tokens=False),
               tok.encode("a much longer prompt " * 6, add_special_tokens=False),
               tok.encode("x", add_special_tokens=False)]
    params = [SamplingParams(temperature=0.0, max_tokens=6), SamplingParams(temperature=1.0, max_tokens=9),
              SamplingParams(temperature=0.0, max_tokens=3)]
    results, errors = _concurrently(lambda i: hf_backend.generate(prompts[i], params[i]), range(3))
    assert not errors
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    for i, c in results.items():
        n = len(c.completion_ids)
        assert n == params[i].max_tokens or (c.finish_reason == "stop" and c.completion_ids[-1] in hf_backend.eos_ids)
        ref = forward_logprobs(model, prompts[i] + c.completion_ids)[-n:]
        assert c.logprobs == pytest.approx(ref, abs=1e-3)
        if params[i].temperature == 0:  # greedy: every token is the argmax of the unpadded forward pass
            import torch

            with torch.no_grad():
                logits = model(torch.tensor([prompts[i] + c.completion_ids])).logits[0]
            argmax = logits[len(prompts[i]) - 1:-1].argmax(-1).tolist()
            assert c.completion_ids == argmax[:n]


def test_sampling_ignores_model_defaults_and_applies_top_p(tiny_model, tmp_path):
    import json
    import shutil

    from arenas.agents.llm.hf import HFBackend

    folder = tmp_path / "model"
    shutil.copytree(tiny_model, folder)
    config = json.loads((folder / "generation_config.json").read_text())
    config.update(do_sample=True, top_k=1, repetition_penalty=50.0, temperature=0.01)
    (folder / "generation_config.json").write_text(json.dumps(config))
    backend = HFBackend(str(folder), device="cpu", batch_wait_ms=0)
    prompt = [5, 6, 7, 8]
    greedy = backend.generate(prompt, SamplingParams(temperature=0.0, max_tokens=24))
    nucleus = backend.generate(prompt, SamplingParams(temperature=1.0, top_p=1e-6, max_tokens=24))
    sampled = backend.generate(prompt, SamplingParams(temperature=1.0, max_tokens=24))
    backend.close()
    assert nucleus.completion_ids == greedy.completion_ids  # a tiny nucleus keeps only the argmax
    assert sampled.completion_ids != greedy.completion_ids  # the shipped top_k=1 was not applied
    assert max(sampled.logprobs) < -1.0  # and logprobs are the model's own (near-uniform) ones


def test_gumbel_sampler_matches_temperature_and_top_p():
    import torch

    from arenas.agents.llm.hf import _SampledLogprobs

    torch.manual_seed(0)
    logits = torch.tensor([2.0, 1.0, 0.5, 0.0, -3.0]).repeat(40000, 1)
    sampler = _SampledLogprobs(temperature=0.5, top_p=0.9)
    choice = sampler(torch.zeros((40000, 1), dtype=torch.long), logits).argmax(-1)
    freq = torch.bincount(choice, minlength=5).float() / len(choice)
    probs = torch.softmax(logits[0] / 0.5, -1)  # [0.84, 0.11, 0.04, ...]: the nucleus is the first two
    expected = torch.zeros(5)
    expected[:2] = probs[:2] / probs[:2].sum()
    assert torch.allclose(freq, expected, atol=0.01)
    recorded = sampler.finish(choice)[:, 0]  # logprobs are those of the tempered distribution
    assert torch.allclose(recorded, torch.log_softmax(logits / 0.5, -1).gather(1, choice[:, None])[:, 0])
