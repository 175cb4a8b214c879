"""The data that crosses a boundary (agent/arena, process, network): tasks, observations,
actions, step results, reward breakdowns — and their one wire format.

Every type has ``to_dict``/``from_dict``; :func:`encode`/:func:`decode` carry the values JSON
cannot (numpy arrays, bytes such as screenshots, NaN and infinities) as small tagged objects, so
trajectories, the env server and remote workers all read and write the same shapes and no
non-finite number can make a writer raise. :data:`WIRE_VERSION` is bumped when a shape changes.
"""

from __future__ import annotations

import base64
import math
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

WIRE_VERSION = 1

Message = dict[str, Any]
"""One chat message, OpenAI style: ``{"role": ..., "content": ..., ["tool_call_id"|"tool_calls"]}``."""


class Termination(StrEnum):
    """Why an episode ended (``Trajectory.termination``); arenas may add a domain reason as a
    plain string, these are the ones the harness itself assigns or relies on."""

    SUBMITTED = "submitted"
    COMPLETED = "completed"
    TERMINATED = "terminated"
    TRUNCATED = "truncated"
    MAX_TURNS = "max_turns"
    INVALID_ACTIONS = "invalid_actions"
    EPISODE_TIMEOUT = "episode_timeout"
    AGENT_TIMEOUT = "agent_timeout"
    CONTEXT_EXHAUSTED = "context_exhausted"
    ERROR = "error"


@dataclass(frozen=True)
class Task:
    """One problem instance.

    ``prompt`` is what the agent may see; ``reference`` is for the verifier (and the oracle) only.
    The same (arena version, split, seed) always yields the same tasks.
    """

    id: str
    split: str
    prompt: dict[str, Any]
    reference: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return encode(asdict(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Task:
        d = decode(d)
        return cls(d["id"], d["split"], d.get("prompt", {}), d.get("reference", {}), d.get("meta", {}))


@dataclass
class ToolCall:
    """A request to call one of the arena's tools. ``arguments`` is already-decoded JSON."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    id: str = ""

    def to_openai(self) -> dict[str, Any]:
        import json

        return {"id": self.id, "type": "function",
                "function": {"name": self.name, "arguments": json.dumps(encode(self.arguments))}}

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": encode(self.arguments), "id": self.id}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ToolCall:
        return cls(str(d["name"]), decode(d.get("arguments") or {}), str(d.get("id", "")))


@dataclass
class Action:
    """What one assistant message says: free text and/or tool calls.

    ``structured`` carries a non-text action (an int or an array) for classic-RL agents that use
    an arena's structured view. ``parse_errors`` lists tool calls that could not be decoded; the
    arena turns them into feedback rather than raising.
    """

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    structured: Any = None
    parse_errors: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    """Agent-side record of how the action was made (token ids, logprobs, latency)."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text}
        if self.tool_calls:
            out["tool_calls"] = [c.to_dict() for c in self.tool_calls]
        if self.structured is not None:
            out["structured"] = encode(self.structured)
        if self.parse_errors:
            out["parse_errors"] = list(self.parse_errors)
        if self.meta:
            out["meta"] = encode(self.meta)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Action:
        return cls(text=str(d.get("text") or ""), tool_calls=[ToolCall.from_dict(c) for c in d.get("tool_calls", [])],
                   structured=decode(d.get("structured")), parse_errors=list(d.get("parse_errors", [])),
                   meta=decode(d.get("meta") or {}))


@dataclass
class Observation:
    """What the agent receives after reset/step.

    ``messages`` are the *new* chat messages (the agent keeps its own history). ``data`` is an
    optional structured view (arrays/dicts, with ``action_mask`` for discrete actions); ``images``
    holds PNG bytes for vision-language agents.
    """

    messages: list[Message] = field(default_factory=list)
    data: dict[str, Any] | None = None
    images: list[bytes] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The new messages as one string (the text face of gymnasium)."""
        return "\n\n".join(str(m.get("content") or "") for m in self.messages)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"messages": encode(self.messages)}
        if self.data is not None:
            out["data"] = encode(self.data)
        if self.images:
            out["images"] = encode(list(self.images))
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Observation:
        return cls(decode(d.get("messages") or []), decode(d.get("data")), decode(d.get("images") or []))


@dataclass
class RewardBreakdown:
    """The weighted total and every component's score (each is logged as a metric)."""

    total: float
    components: dict[str, float]
    details: dict[str, Any] = field(default_factory=dict)
    passed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return encode(asdict(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RewardBreakdown:
        d = decode(d)
        return cls(float(d["total"]), dict(d.get("components", {})), d.get("details", {}), bool(d.get("passed")))


@dataclass
class StepResult:
    """Gymnasium's five-tuple as a named record."""

    observation: Observation
    reward: float
    terminated: bool
    truncated: bool
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.terminated or self.truncated

    def to_dict(self) -> dict[str, Any]:
        return {"observation": self.observation.to_dict(), "reward": encode(float(self.reward)),
                "terminated": self.terminated, "truncated": self.truncated, "info": encode(self.info)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StepResult:
        return cls(Observation.from_dict(d["observation"]), float(decode(d["reward"])), bool(d["terminated"]),
                   bool(d["truncated"]), decode(d.get("info") or {}))


# ---- values JSON cannot carry ------------------------------------------------------------
def encode(value: Any) -> Any:
    """A JSON-safe copy of ``value``: non-finite floats, numpy arrays/scalars and bytes become
    tagged objects; tuples and sets become lists; anything else unknown becomes its ``repr``."""
    if value is None or isinstance(value, (int, str)):  # bool and StrEnum members included
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [encode(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return {"__bytes__": base64.b64encode(bytes(value)).decode()}
    if hasattr(value, "dtype") and hasattr(value, "tolist"):
        if value.ndim == 0:
            return encode(value.item())
        return {"__ndarray__": encode(value.tolist()), "dtype": str(value.dtype), "shape": list(value.shape)}
    if hasattr(value, "to_dict"):
        return encode(value.to_dict())
    return repr(value)


def decode(value: Any) -> Any:
    """Inverse of :func:`encode` (arrays come back as numpy arrays of the recorded dtype)."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1 and "__float__" in value:
        return float(value["__float__"])
    if len(value) == 1 and "__bytes__" in value:
        return base64.b64decode(value["__bytes__"])
    if "__ndarray__" in value and set(value) == {"__ndarray__", "dtype", "shape"}:
        import numpy as np

        return np.asarray(decode(value["__ndarray__"]), dtype=value["dtype"]).reshape(value["shape"])
    return {k: decode(v) for k, v in value.items()}


WIRE_TYPES = {t.__name__: t for t in (Task, ToolCall, Action, Observation, RewardBreakdown, StepResult)}


def to_wire(obj: Any) -> dict[str, Any]:
    """A versioned envelope ``{"wire": N, "type": name, "data": obj.to_dict()}``."""
    name = type(obj).__name__
    if name not in WIRE_TYPES:
        raise TypeError(f"{name} is not a wire type ({', '.join(WIRE_TYPES)})")
    return {"wire": WIRE_VERSION, "type": name, "data": obj.to_dict()}


def from_wire(envelope: dict[str, Any]) -> Any:
    """Reads an envelope written by :func:`to_wire`; a newer wire version is refused."""
    version = envelope.get("wire")
    if not isinstance(version, int) or version > WIRE_VERSION:
        raise ValueError(f"unsupported wire version {version!r} (this side reads up to {WIRE_VERSION})")
    name = envelope.get("type")
    kind = WIRE_TYPES.get(name) if isinstance(name, str) else None
    if kind is None:
        raise ValueError(f"unknown wire type {name!r}")
    return kind.from_dict(envelope["data"])
