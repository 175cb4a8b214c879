"""Arena configuration: one dataclass per arena, validated once, documented where it is declared.

Every field carries its documentation as a string literal right under it (the convention of
Python's own dataclass docs and TRL's configs); :func:`describe` reads those strings so
``arenas info`` shows each key with its type, default and meaning. Unknown keys are an error that
lists the valid ones: a typo on the command line must not silently run the default.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap
import types
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

C = TypeVar("C", bound="ArenaConfig")


class ConfigError(ValueError):
    """A configuration key or value a user got wrong (reported in one line, exit code 2)."""


@dataclass
class ArenaConfig:
    """Options every arena has; a domain subclasses it and adds its own fields."""

    max_turns: int = 20
    """Agent actions per episode; the episode is truncated after the last one."""
    split: str = "train"
    """Split that ``reset()`` without a task draws from."""
    max_action_chars: int = 100_000
    """Longest action text accepted; a longer one is an invalid action (and is not executed)."""
    max_tool_calls: int = 32
    """Most tool calls in one action; more is an invalid action (none of them is executed)."""
    step_timeout_s: float = 60.0
    """Wall-clock budget of one step: the tool calls of one action share it (tools with their own
    limits get at most what is left) and calls past it are not run; 0 = none."""

    @classmethod
    def from_kwargs(cls: type[C], kwargs: dict[str, Any]) -> C:
        """Builds the config; an unknown key or a value of the wrong type raises :class:`ConfigError`."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(kwargs) - names)
        if unknown:
            raise ConfigError(f"unknown config key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                              f"for {cls.__name__}; valid keys: {', '.join(sorted(names))}")
        hints = _hints(cls)
        values = {k: _coerce(k, v, hints.get(k)) for k, v in kwargs.items()}
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def describe(cls: type[ArenaConfig]) -> list[dict[str, Any]]:
    """One row per field: name, type, default and the docstring under it."""
    docs = field_docs(cls)
    hints = _hints(cls)
    rows = []
    for f in dataclasses.fields(cls):
        default: Any = f.default
        if f.default is dataclasses.MISSING:
            default = f.default_factory() if f.default_factory is not dataclasses.MISSING else None
        rows.append({"name": f.name, "type": _type_name(hints.get(f.name)), "default": default,
                     "doc": docs.get(f.name, "")})
    return rows


@cache
def field_docs(cls: type) -> dict[str, str]:
    """Field name -> the string literal written right under its declaration (over the MRO)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError, SyntaxError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for stmt, nxt in zip(body, body[1:], strict=False):
            if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                    and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                    and isinstance(nxt.value.value, str)):
                docs[stmt.target.id] = " ".join(nxt.value.value.split())
    return docs


@cache
def _hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except Exception:  # a forward reference that does not resolve: skip type checks
        return {}


def _type_name(hint: Any) -> str:
    if hint is None:
        return "any"
    return getattr(hint, "__name__", None) if isinstance(hint, type) else str(hint).replace("typing.", "")


_SCALARS = (bool, int, float, str)


def _coerce(name: str, value: Any, hint: Any) -> Any:
    """Checks a value against a scalar hint (``int``, ``float``, ``str``, ``bool`` or an optional
    of one); strings from the command line are converted. Other hints are taken as they are."""
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union \
        else (hint,)
    if value is None and type(None) in options:
        return None
    scalars = [t for t in options if t in _SCALARS]
    if not scalars or len(scalars) != len([t for t in options if t is not type(None)]):
        return value
    for t in scalars:
        if type(value) is t or (t is float and type(value) is int):
            return float(value) if t is float else value
    if isinstance(value, str):
        for t in scalars:
            try:
                return _from_text(value, t)
            except ValueError:
                continue
    wanted = " or ".join(t.__name__ for t in scalars)
    raise ConfigError(f"config key {name!r} must be {wanted}, got {value!r:.60}")


def _from_text(text: str, t: type) -> Any:
    if t is bool:
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise ValueError(text)
    return t(text)
