"""Agent specs on the command line -> agent factories.

``random`` | ``oracle`` | ``heuristic`` | ``policy:<name>`` | ``python:<module>:<Class>`` and the
model backends registered in :data:`BACKENDS` (``openai:<model>``, ``vllm:<path>``, ``hf:<path>``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from arenas.agents.base import AgentFactory
from arenas.agents.baselines import PolicyAgent, RandomAgent

BACKENDS: dict[str, str] = {
    "openai": "arenas.agents.llm.factory:make_llm_factory",
    "vllm": "arenas.agents.llm.factory:make_llm_factory",
    "hf": "arenas.agents.llm.factory:make_llm_factory",
}
"""Prefix -> ``"module:function(kind, target, **options) -> AgentFactory"``."""


def _import(path: str) -> Any:
    module, _, attr = path.rpartition(":")
    if not module:
        raise ValueError(f"expected 'module:attribute', got {path!r}")
    return getattr(importlib.import_module(module), attr)


def make_agent_factory(spec: str, **options: Any) -> AgentFactory:
    """Parses an agent spec. ``options`` go to model backends (base_url, sampling, ...)."""
    if spec == "random":
        return RandomAgent
    if spec in ("oracle", "heuristic"):
        return lambda: PolicyAgent(spec)
    kind, _, target = spec.partition(":")
    if kind == "policy" and target:
        return lambda: PolicyAgent(target)
    if kind == "python" and target:
        cls: Callable[..., Any] = _import(target)
        return lambda: cls(**options) if options else cls()
    if kind in BACKENDS and target:
        return _import(BACKENDS[kind])(kind, target, **options)
    raise ValueError(
        f"unknown agent spec {spec!r}: use random, oracle, heuristic, policy:<name>, "
        f"python:<module>:<Class>, or {', '.join(p + ':<target>' for p in BACKENDS)}"
    )
