"""Shared fixtures: a tiny random-init model built once per session, its backend, and a real
OpenAI-compatible server process serving it on 127.0.0.1."""

from __future__ import annotations

from typing import Any

import pytest

from arenas.agents.llm.backend import Completion, SamplingParams
from arenas.agents.llm.tiny_model import create_tiny_model
from tests.agents.model_server import serve_model


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    return str(create_tiny_model(tmp_path_factory.mktemp("tiny") / "model", seed=0))


@pytest.fixture(scope="session")
def tiny_strip_model(tmp_path_factory) -> str:
    return str(create_tiny_model(tmp_path_factory.mktemp("tiny-strip") / "model", strip_think=True, seed=1))


@pytest.fixture(scope="session")
def tokenizer(tiny_model):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model)


@pytest.fixture(scope="session")
def hf_backend(tiny_model):
    from arenas.agents.llm.hf import HFBackend

    backend = HFBackend(tiny_model, device="cpu", batch_wait_ms=20)
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def model_server(tiny_model):
    """``arenas serve-model`` in its own process; yields its base URL; stopped by PID."""
    with serve_model(tiny_model) as url:
        yield url


def forward_logprobs(model: Any, ids: list[int]) -> list[float]:
    """log p(ids[i] | ids[:i]) for i >= 1 under a plain forward pass (index 0 gets 0.0)."""
    import torch

    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].float()
    lp = torch.log_softmax(logits, dim=-1)
    return [0.0] + [lp[i - 1, ids[i]].item() for i in range(1, len(ids))]


class ScriptedBackend:
    """A token backend that replies with scripted texts (tokenized by the real tiny tokenizer),
    recording every prompt it was given."""

    kind = "tokens"

    def __init__(self, tokenizer, replies: list[str], max_context: int = 4096):
        self.tokenizer = tokenizer
        self.replies = list(replies)
        self.eos_ids = [tokenizer.eos_token_id]
        self.max_context = max_context
        self.prompts: list[list[int]] = []
        self.params: list[SamplingParams] = []

    def generate(self, prompt_ids: list[int], params: SamplingParams) -> Completion:
        self.prompts.append(list(prompt_ids))
        self.params.append(params)
        text = self.replies[min(len(self.prompts) - 1, len(self.replies) - 1)]
        ids = self.tokenizer.encode(text, add_special_tokens=False) + [self.tokenizer.eos_token_id]
        return Completion(text=self.tokenizer.decode(ids, skip_special_tokens=False), prompt_ids=list(prompt_ids),
                          completion_ids=ids, logprobs=[-0.5] * len(ids), finish_reason="stop")
