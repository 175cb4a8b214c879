"""A tiny random-init chat model shared by the GRPO tests (built once per session, ~1 s)."""

import pytest


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    from arenas.agents.llm.tiny_model import create_tiny_model

    return create_tiny_model(tmp_path_factory.mktemp("tiny") / "model", vocab_size=512, hidden=32, layers=2,
                             heads=2, seed=0)
