"""Agent specs on the command line -> agent factories.

``random`` | ``oracle`` | ``heuristic`` | any policy the arena names (bare or ``policy:<name>``) |
``python:<module>:<Class>`` and the
model backends declared in the entry-point group ``arenas.backends`` (``openai:<model>``,
``vllm:<path>``, ``hf:<path>`` from :mod:`arenas.agents`), so the core resolves every spec
without importing the agents package.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from arenas.agent import AgentFactory
from arenas.baseline_agents import PolicyAgent, RandomAgent
from arenas.config import ConfigError

BACKEND_GROUP = "arenas.backends"


@cache
def backends() -> dict[str, str]:
    """Prefix -> ``"module:function(kind, target, **options) -> AgentFactory"``."""
    return {ep.name: ep.value for ep in entry_points(group=BACKEND_GROUP)}


def _import(path: str) -> Any:
    module, _, attr = path.rpartition(":")
    if not module:
        raise ConfigError(f"expected 'module:attribute', got {path!r}")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as e:
        raise ConfigError(f"cannot load {path!r}: {e}") from e


def _check_options(cls: Callable[..., Any], options: dict[str, Any], spec: str) -> None:
    """``-o`` options a ``python:`` agent's constructor does not take are a user error."""
    if not options:
        return
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    unknown = sorted(set(options) - set(params))
    if unknown:
        raise ConfigError(f"{spec} takes no option {', '.join(unknown)}; its options: {', '.join(params) or 'none'}")


def make_agent_factory(spec: str, **options: Any) -> AgentFactory:
    """Parses an agent spec. ``options`` go to model backends (base_url, sampling, ...)."""
    if spec == "random":
        return RandomAgent
    if spec.isidentifier():  # oracle, heuristic or any baseline the arena offers by name
        return lambda: PolicyAgent(spec)
    kind, _, target = spec.partition(":")
    if kind == "policy" and target:
        return lambda: PolicyAgent(target)
    if kind == "python" and target:
        cls: Callable[..., Any] = _import(target)
        _check_options(cls, options, spec)
        return lambda: cls(**options) if options else cls()
    if kind in backends() and target:
        return _import(backends()[kind])(kind, target, **options)
    raise ConfigError(
        f"unknown agent spec {spec!r}: use random, oracle, heuristic, <policy name>, policy:<name>, "
        f"python:<module>:<Class>, or {', '.join(p + ':<target>' for p in backends())}"
    )
