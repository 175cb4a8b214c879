"""Tool schemas and the one shared tool-call parser.

Arenas declare tools as methods decorated with :func:`tool`; the OpenAI JSON schema is derived
from the signature and docstring, so the schema and the code cannot drift apart.

Agents may call tools natively (OpenAI ``tool_calls``) or in text. The text form, which every
arena accepts, is one JSON object per ``<tool_call>`` block::

    <tool_call>
    {"name": "run_sql", "arguments": {"query": "SELECT 1"}}
    </tool_call>

This is the Hermes/Qwen convention, so chat templates trained on it work unchanged.
"""

from __future__ import annotations

import inspect
import json
import re
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from arenas.types import Action, ToolCall

TOOL_CALL_FORMAT = (
    "To call a tool, write one block per call:\n"
    "<tool_call>\n"
    '{"name": "<tool name>", "arguments": {<arguments as JSON>}}\n'
    "</tool_call>"
)

_JSON_TYPES: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean",
                               list: "array", dict: "object"}


@dataclass(frozen=True)
class Tool:
    """One tool: a name, a description and a JSON schema for its arguments."""

    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})

    def to_openai(self) -> dict[str, Any]:
        return {"type": "function",
                "function": {"name": self.name, "description": self.description,
                             "parameters": self.parameters}}

    def validate(self, arguments: Any) -> tuple[dict[str, Any], str | None]:
        """Checks (and mildly coerces) ``arguments``; returns (arguments, error or None)."""
        if not isinstance(arguments, dict):
            return {}, f"arguments of {self.name} must be a JSON object, got {type(arguments).__name__}"
        props: dict[str, Any] = self.parameters.get("properties", {})
        required = self.parameters.get("required", [])
        missing = [k for k in required if k not in arguments]
        if missing:
            return {}, f"{self.name} is missing required argument(s): {', '.join(missing)}"
        unknown = [k for k in arguments if k not in props]
        if unknown:
            return {}, (f"{self.name} got unknown argument(s): {', '.join(unknown)}; "
                        f"expected: {', '.join(props) or 'none'}")
        out: dict[str, Any] = {}
        for key, value in arguments.items():
            coerced, err = _coerce(value, props[key].get("type"))
            if err:
                return {}, f"argument {key!r} of {self.name}: {err}"
            out[key] = coerced
        return out, None


def _coerce(value: Any, kind: str | None) -> tuple[Any, str | None]:
    if kind is None:
        return value, None
    if kind == "integer":
        if isinstance(value, bool):
            return None, "expected an integer"
        if isinstance(value, int):
            return value, None
        if isinstance(value, float) and value.is_integer():
            return int(value), None
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            return int(value), None
        return None, "expected an integer"
    if kind == "number":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value), None
        try:
            return float(value), None
        except (TypeError, ValueError):
            return None, "expected a number"
    if kind == "string":
        if isinstance(value, str):
            return value, None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value), None
        return None, "expected a string"
    if kind == "boolean":
        if isinstance(value, bool):
            return value, None
        if value in ("true", "false"):
            return value == "true", None
        return None, "expected true or false"
    if kind == "array":
        return (value, None) if isinstance(value, list) else (None, "expected an array")
    if kind == "object":
        return (value, None) if isinstance(value, dict) else (None, "expected an object")
    return value, None


def tool(fn: Callable | None = None, *, name: str | None = None) -> Any:
    """Marks an arena method as a tool. Its docstring's first paragraph is the description;
    lines ``param: text`` after an ``Args:`` line describe parameters."""

    def mark(f: Callable) -> Callable:
        f.__arena_tool__ = name or f.__name__  # type: ignore[attr-defined]
        return f

    return mark(fn) if fn is not None else mark


def schema_from_function(fn: Callable, name: str | None = None) -> Tool:
    """Builds a :class:`Tool` from a function's signature, type hints and docstring."""
    doc = inspect.getdoc(fn) or ""
    head, _, rest = doc.partition("Args:")
    descriptions: dict[str, str] = {}
    for line in rest.splitlines():
        m = re.match(r"\s*(\w+)\s*(?:\([^)]*\))?:\s*(.+)", line)
        if m:
            descriptions[m.group(1)] = m.group(2).strip()
    hints = typing.get_type_hints(fn)
    props: dict[str, Any] = {}
    required: list[str] = []
    for pname, param in inspect.signature(fn).parameters.items():
        if pname == "self":
            continue
        prop: dict[str, Any] = {}
        kind = _json_type(hints.get(pname))
        if kind:
            prop["type"] = kind
        if pname in descriptions:
            prop["description"] = descriptions[pname]
        if param.default is inspect.Parameter.empty:
            required.append(pname)
        else:
            prop["default"] = param.default
        props[pname] = prop
    params: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        params["required"] = required
    return Tool(name=name or fn.__name__, description=" ".join(head.split()), parameters=params)


def _json_type(hint: Any) -> str | None:
    if hint is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return _json_type(args[0]) if len(args) == 1 else None
    return _JSON_TYPES.get(origin or hint)


_BLOCK = re.compile(r"<tool_call>(.*?)(?:</tool_call>|\Z)", re.S)
_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$")


def parse_tool_calls(text: str) -> tuple[list[ToolCall], list[str]]:
    """Extracts text-form tool calls. Returns (calls, errors); never raises."""
    calls: list[ToolCall] = []
    errors: list[str] = []
    for i, m in enumerate(_BLOCK.finditer(text or "")):
        body = _FENCE.sub("", m.group(1).strip())
        if not body:
            errors.append("empty <tool_call> block")
            continue
        obj, err = _loads(body, f"<tool_call> block {i + 1}")
        if err:
            errors.append(err)
            continue
        call, err = _call_from_obj(obj, f"call_{i}")
        if err:
            errors.append(err)
        else:
            calls.append(call)
    return calls, errors


MAX_JSON_DEPTH = 32
"""Tool-call JSON nested deeper than this is refused (it is never a real argument, and deep
nesting exhausts the recursion of every JSON consumer downstream)."""


def _loads(text: str, what: str) -> tuple[Any, str | None]:
    """``json.loads`` that reports instead of raising: bad JSON, nesting past
    :data:`MAX_JSON_DEPTH`, integers past Python's digit limit."""
    depth = _max_depth(text)
    if depth > MAX_JSON_DEPTH:
        return None, f"{what} is nested {depth} levels deep (at most {MAX_JSON_DEPTH})"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as e:
        return None, f"{what} is not valid JSON ({e.msg} at char {e.pos})"
    except (ValueError, RecursionError) as e:
        return None, f"{what} could not be read: {str(e)[:120]}"


def _max_depth(text: str) -> int:
    """The bracket depth of JSON text, counting brackets outside strings (a linear scan)."""
    depth = best = 0
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            best = max(best, depth)
        elif c in "]}":
            depth -= 1
    return best


def _call_from_obj(obj: Any, default_id: str) -> tuple[ToolCall, str | None]:
    if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
        return ToolCall(""), 'a tool call must be a JSON object with a string "name"'
    args = obj.get("arguments", obj.get("parameters", {}))
    if isinstance(args, str):
        if not args.strip():
            args = {}
        else:
            args, err = _loads(args, f"arguments of {obj['name']}")
            if err:
                return ToolCall(""), err
    if not isinstance(args, dict):
        return ToolCall(""), f"arguments of {obj['name']} must be a JSON object"
    return ToolCall(obj["name"], args, str(obj.get("id") or default_id)), None


def action_from_openai(content: str | None, tool_calls: Iterable[Any] | None = None) -> Action:
    """Builds an Action from an OpenAI assistant message: native tool calls when present,
    otherwise text-form calls parsed from ``content``."""
    if content is not None and not isinstance(content, str):
        return Action(text="", parse_errors=[f"message content must be a string, got {type(content).__name__}"])
    text = content or ""
    calls: list[ToolCall] = []
    errors: list[str] = []
    if tool_calls is not None and not isinstance(tool_calls, list):
        return Action(text=text, parse_errors=["tool_calls must be a list"])
    for i, tc in enumerate(tool_calls or []):
        fn = tc.get("function", {}) if isinstance(tc, dict) else getattr(tc, "function", None)
        name = fn.get("name") if isinstance(fn, dict) else getattr(fn, "name", None)
        args = fn.get("arguments") if isinstance(fn, dict) else getattr(fn, "arguments", None)
        tc_id = tc.get("id") if isinstance(tc, dict) else getattr(tc, "id", None)
        call, err = _call_from_obj({"name": name, "arguments": args or {}, "id": tc_id}, f"call_{i}")
        (errors.append(err) if err else calls.append(call))
    if not calls and not errors:
        calls, errors = parse_tool_calls(text)
    return Action(text=text, tool_calls=calls, parse_errors=errors)


def as_action(action: Any) -> Action:
    """Coerces what an agent returned (Action, str, OpenAI message dict, int/array) to an Action."""
    if isinstance(action, Action):
        if not isinstance(action.text, str):  # an agent's bug is the episode's invalid action, not a crash
            return Action("", [], action.structured, [*action.parse_errors,
                          f"action text must be a string, got {type(action.text).__name__}"], action.meta)
        if not action.tool_calls and not action.parse_errors and action.text and "<tool_call>" in action.text:
            calls, errors = parse_tool_calls(action.text)
            return Action(action.text, calls, action.structured, errors, action.meta)
        return action
    if isinstance(action, str):
        calls, errors = parse_tool_calls(action)
        return Action(text=action, tool_calls=calls, parse_errors=errors)
    if isinstance(action, dict) and ("content" in action or "tool_calls" in action):
        return action_from_openai(action.get("content"), action.get("tool_calls"))
    return Action(structured=action)
