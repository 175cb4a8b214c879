"""The tiny random-init chat model of the GRPO tests, shared by the integration tests."""

from tests.grpo.conftest import tiny_model_dir  # noqa: F401
