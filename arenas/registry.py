"""Arena registry: ``arenas.make(id, **config)`` and ``arenas.list()``.

Built-in arenas are discovered, not listed: every folder ``arenas/<id>/`` with an ``arena.toml``
manifest is one arena (reading the manifests imports nothing, so ``import arenas`` stays cheap
and an arena whose optional extra is missing fails only when made). Third-party arenas register
through the entry-point group ``arenas.arenas`` (``name = "package.module:ArenaClass"``) or
:func:`register`.
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from arenas.config import ConfigError

ENTRY_POINT_GROUP = "arenas.arenas"
MANIFEST = "arena.toml"
BUILTIN_ROOT = Path(__file__).resolve().parent


@dataclass
class ArenaSpec:
    """What the project knows about an arena without importing it (its manifest)."""

    id: str
    entry_point: Any
    """``"module:Class"`` or a callable returning an arena."""
    version: int = 0
    kwargs: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    extra: str | None = None
    """The optional-dependency extra this arena needs (``pip install 'arenas[<extra>]'``)."""
    apt: tuple[str, ...] = ()
    """Debian packages the arena needs (``scripts/install.sh --all`` installs them)."""
    install: str | None = None
    """A script in the arena's folder run at install time (e.g. a Node server)."""
    package_data: tuple[str, ...] = ()
    """Globs of data files in the arena's folder that ship with the package."""
    commands: dict[str, str] = field(default_factory=dict)
    """Extra CLI commands: name -> ``"module:function"`` (a typer command function)."""
    build: str | None = None
    """``"module:function"`` building the arena's data ahead of time (``arenas build-data``)."""
    services: tuple[str, ...] = ()
    """Services the arena starts (documentation; e.g. ``showdown``, ``postgresql``)."""
    suite: dict[str, Any] = field(default_factory=dict)
    """Leaderboard defaults (split, n, seed, rollouts, config) for the core suite; empty = not in it."""
    demo: dict[str, Any] = field(default_factory=dict)
    """What ``arenas demo`` runs: ``agents`` (its strongest simple baselines), ``n``, ``split``, ``config``."""
    folder: Path | None = None

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


_MANIFEST_KEYS = {"id", "version", "entry", "summary", "extra", "apt", "install", "package_data", "commands",
                  "build", "services", "suite", "demo"}


def read_manifest(path: str | Path) -> ArenaSpec:
    """Parses an ``arena.toml``; unknown keys and a folder/id mismatch are errors."""
    path = Path(path)
    with open(path, "rb") as f:
        data = tomllib.load(f)
    unknown = set(data) - _MANIFEST_KEYS
    if unknown:
        raise ValueError(f"{path}: unknown manifest keys {sorted(unknown)}; allowed: {sorted(_MANIFEST_KEYS)}")
    for key in ("id", "entry"):
        if key not in data:
            raise ValueError(f"{path}: the manifest needs {key!r}")
    if data["id"] != path.parent.name:
        raise ValueError(f"{path}: id {data['id']!r} must be the folder's name {path.parent.name!r}")
    return ArenaSpec(id=data["id"], entry_point=data["entry"], version=int(data.get("version", 0)),
                     summary=data.get("summary", ""), extra=data.get("extra"), apt=tuple(data.get("apt", ())),
                     install=data.get("install"), package_data=tuple(data.get("package_data", ())),
                     commands=dict(data.get("commands", {})), build=data.get("build"), services=tuple(data.get("services", ())),
                     suite=dict(data.get("suite", {})), demo=dict(data.get("demo", {})), folder=path.parent)


def builtin_manifests(root: str | Path = BUILTIN_ROOT) -> list[Path]:
    return sorted(Path(root).glob(f"*/{MANIFEST}"))


_REGISTRY: dict[str, ArenaSpec] = {}
_listeners: list[Callable[[ArenaSpec], None]] = []
_entry_points_loaded = False


def add(spec: ArenaSpec) -> ArenaSpec:
    """Registers a spec (replacing one of the same id) and tells the listeners."""
    _REGISTRY[spec.id] = spec
    for listener in _listeners:
        listener(spec)
    return spec


def register(id: str, entry_point: Any, version: int = 0, summary: str = "", extra: str | None = None,
             **kwargs: Any) -> ArenaSpec:
    """Registers an arena from code (and its Gymnasium id ``arenas/<id>-v<version>``)."""
    return add(ArenaSpec(id, entry_point, version, kwargs, summary, extra))


def add_listener(listener: Callable[[ArenaSpec], None]) -> None:
    """Calls ``listener`` for every spec registered now and later (the Gymnasium face uses it)."""
    _listeners.append(listener)
    for spec in list(_REGISTRY.values()):
        listener(spec)


def discover(root: str | Path = BUILTIN_ROOT) -> list[ArenaSpec]:
    """Registers every arena folder under ``root`` that has a manifest."""
    return [add(read_manifest(path)) for path in builtin_manifests(root)]


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in _REGISTRY:
            register(ep.name, ep.value, summary=f"third-party arena ({ep.value})")


class UnknownArenaError(ConfigError, KeyError):
    """No arena is registered under that id."""

    def __str__(self) -> str:
        return str(self.args[0])


def spec(id: str) -> ArenaSpec:
    _load_entry_points()
    if id not in _REGISTRY:
        raise UnknownArenaError(f"unknown arena {id!r}; registered: {', '.join(sorted(_REGISTRY)) or 'none'}")
    return _REGISTRY[id]


def make(id: str, **config: Any) -> Any:
    """Creates a registered arena. ``config`` overrides the registered defaults; with
    ``remote=<url>`` it is a :class:`~arenas.remote.RemoteArena` on that env server instead."""
    if "remote" in config:
        from arenas.remote import RemoteArena

        return RemoteArena(config.pop("remote"), id, **config)
    s = spec(id)
    return s.load()(**{**s.kwargs, **config})


def list_arenas() -> list[ArenaSpec]:
    _load_entry_points()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]
