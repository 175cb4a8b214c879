"""Arena registry: ``arenas.make(id, **config)`` and ``arenas.list()``.

Built-in arenas register lazily (by import path, so importing :mod:`arenas` stays cheap and an
arena whose optional extra is missing fails only when made). Third-party arenas register through
the entry-point group ``arenas.arenas``: ``name = "package.module:ArenaClass"``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

ENTRY_POINT_GROUP = "arenas.arenas"


@dataclass
class ArenaSpec:
    id: str
    entry_point: str
    """``"module:Class"`` or a callable returning an arena."""
    version: int = 0
    kwargs: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    extra: str | None = None
    """The optional-dependency extra this arena needs, for a helpful error."""

    @property
    def gym_id(self) -> str:
        return f"arenas/{self.id}-v{self.version}"

    def load(self) -> Any:
        if callable(self.entry_point):
            return self.entry_point
        module, _, attr = self.entry_point.partition(":")
        try:
            mod = importlib.import_module(module)
        except ImportError as e:
            hint = f" (install it with: pip install 'arenas[{self.extra}]')" if self.extra else ""
            raise ImportError(f"arena {self.id!r} could not be imported: {e}{hint}") from e
        return getattr(mod, attr)


_REGISTRY: dict[str, ArenaSpec] = {}
_entry_points_loaded = False


def register(id: str, entry_point: Any, version: int = 0, summary: str = "", extra: str | None = None,
             **kwargs: Any) -> ArenaSpec:
    """Registers an arena (and its Gymnasium id ``arenas/<id>-v<version>``)."""
    spec = ArenaSpec(id, entry_point, version, kwargs, summary, extra)
    _REGISTRY[id] = spec
    from arenas import gym_face

    gym_face.register_gym(spec)
    return spec


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in _REGISTRY:
            register(ep.name, ep.value, summary=f"third-party arena ({ep.value})")


def spec(id: str) -> ArenaSpec:
    _load_entry_points()
    if id not in _REGISTRY:
        raise KeyError(f"unknown arena {id!r}; registered: {', '.join(sorted(_REGISTRY)) or 'none'}")
    return _REGISTRY[id]


def make(id: str, **config: Any) -> Any:
    """Creates a registered arena. ``config`` overrides the registered defaults."""
    s = spec(id)
    return s.load()(**{**s.kwargs, **config})


def list_arenas() -> list[ArenaSpec]:
    _load_entry_points()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]
