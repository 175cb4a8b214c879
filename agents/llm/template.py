"""Chat-template rendering and the prefix-consistency check.

Token-level trajectories assume that rendering the chat template for turn t+1 reproduces, as a
prefix, the tokens of turn t (its prompt and the sampled reply). Templates that rewrite history
(e.g. dropping earlier ``<think>`` blocks) or replies whose sampled tokens are not the canonical
tokenization of their text break that assumption. :func:`check_prefix_consistency` tests a
template on a scripted conversation; :func:`env_delta` renders only the messages that follow a
reply, so an episode can continue from its sampled tokens when a re-render disagrees.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from arenas.tools import TOOL_CALL_FORMAT

_SENTINEL = "\u2063ARENAS-REPLY-END\u2063"


def supports_tools(tokenizer: Any) -> bool:
    """Whether the chat template renders a ``tools`` list itself."""
    template = getattr(tokenizer, "chat_template", None) or ""
    if isinstance(template, dict):
        template = " ".join(template.values())
    return "tools" in template


def tools_system_text(tools: list[dict[str, Any]]) -> str:
    """The tools as text for the system prompt, for templates and servers without tool support."""
    lines = [json.dumps(t.get("function", t)) for t in tools]
    return "You can call these tools:\n<tools>\n" + "\n".join(lines) + "\n</tools>\n\n" + TOOL_CALL_FORMAT


def render(tokenizer: Any, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None,
           generation_prompt: bool = True) -> str:
    return tokenizer.apply_chat_template(messages, tools=tools or None, add_generation_prompt=generation_prompt,
                                         tokenize=False)


def encode(tokenizer: Any, text: str) -> list[int]:
    """Tokenizes rendered template text (special tokens come from the text, none are added)."""
    return list(tokenizer.encode(text, add_special_tokens=False))


def render_ids(tokenizer: Any, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None,
               generation_prompt: bool = True) -> list[int]:
    return encode(tokenizer, render(tokenizer, messages, tools, generation_prompt))


def _after_reply(tokenizer: Any, new_messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None,
                 generation_prompt: bool) -> str:
    """What the template renders after an assistant message's content (placeholder history)."""
    base = [{"role": "user", "content": "."}, {"role": "assistant", "content": _SENTINEL}]
    text = render(tokenizer, base + list(new_messages), tools, generation_prompt)
    return text[text.rindex(_SENTINEL) + len(_SENTINEL):]


_END_OF_TURN: dict[int, tuple[Any, tuple[str, int] | None]] = {}


def end_of_turn(tokenizer: Any) -> tuple[str, int] | None:
    """The token that closes an assistant message (``<|im_end|>``, ``<|eot_id|>``, ...), read off
    the template; the eos token when the template closes messages with plain text."""
    cached = _END_OF_TURN.get(id(tokenizer))
    if cached is not None and cached[0] is tokenizer:
        return cached[1]
    found = None
    ids = encode(tokenizer, _after_reply(tokenizer, [], None, generation_prompt=False))
    if ids and tokenizer.convert_ids_to_tokens(ids[0]) in tokenizer.get_added_vocab():
        found = (tokenizer.convert_ids_to_tokens(ids[0]), ids[0])
    elif tokenizer.eos_token is not None:
        found = (tokenizer.eos_token, tokenizer.eos_token_id)
    _END_OF_TURN[id(tokenizer)] = (tokenizer, found)
    return found


def stop_ids(tokenizer: Any, extra: list[int] | tuple[int, ...] = ()) -> list[int]:
    """Token ids that end a reply: ``extra`` (e.g. a generation config's eos ids), the
    tokenizer's eos and the template's end-of-turn token."""
    ids = list(extra)
    eot = end_of_turn(tokenizer)
    for t in (tokenizer.eos_token_id, eot[1] if eot else None):
        if t is not None and t not in ids:
            ids.append(t)
    return ids


def env_delta(tokenizer: Any, new_messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None,
              reply_closed: bool) -> list[int]:
    """Tokens the template puts after an assistant reply: the end of that turn (unless the reply
    sampled it: ``reply_closed``), the new (environment) messages and the next generation prompt.
    Rendered after a placeholder conversation so that nothing before the reply is re-rendered."""
    tail = _after_reply(tokenizer, new_messages, tools, generation_prompt=True)
    eot = end_of_turn(tokenizer)
    if reply_closed and eot and tail.startswith(eot[0]):
        tail = tail[len(eot[0]):]
    return encode(tokenizer, tail)


def first_divergence(expected_prefix: list[int], ids: list[int]) -> int | None:
    """Index of the first position where ``ids`` does not continue ``expected_prefix``; None when
    ``expected_prefix`` is a prefix of ``ids``."""
    n = min(len(expected_prefix), len(ids))
    for i in range(n):
        if expected_prefix[i] != ids[i]:
            return i
    return None if len(ids) >= len(expected_prefix) else n


SCRIPT: list[dict[str, Any]] = [
    {"role": "system", "content": "You answer questions about a database."},
    {"role": "user", "content": "How many orders were placed in 2023?"},
    {"role": "assistant", "content": "<think>\nI should count the rows of orders.\n</think>\n\n<tool_call>\n"
                                     '{"name": "run_sql", "arguments": {"query": "SELECT COUNT(*) FROM orders"}}'
                                     "\n</tool_call>"},
    {"role": "tool", "tool_call_id": "call_0", "name": "run_sql", "content": "count\n42"},
    {"role": "assistant", "content": "<think>\nThe answer is 42.\n</think>\n\n<tool_call>\n"
                                     '{"name": "submit", "arguments": {"answer": "42"}}\n</tool_call>'},
    {"role": "tool", "tool_call_id": "call_0", "name": "submit", "content": "recorded"},
    {"role": "user", "content": "And in 2024?"},
    {"role": "assistant", "content": "<think>\nSame query with a filter.\n</think>\n\nIt was 17."},
    {"role": "user", "content": "Thanks."},
]
"""A conversation with reasoning, tool calls, tool results and a later user turn."""

SCRIPT_TOOLS = [
    {"type": "function", "function": {"name": "run_sql", "description": "Run a read-only SQL query.",
                                      "parameters": {"type": "object", "properties": {"query": {"type": "string"}},
                                                     "required": ["query"]}}},
    {"type": "function", "function": {"name": "submit", "description": "Submit the answer.",
                                      "parameters": {"type": "object", "properties": {"answer": {"type": "string"}},
                                                     "required": ["answer"]}}},
]


@dataclass
class TemplateReport:
    consistent: bool
    supports_tools: bool
    end_of_turn: str | None
    """The token closing assistant messages (see :func:`end_of_turn`)."""
    turns_checked: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    """One entry per assistant turn whose tokens the next render changed: turn, position, and
    the expected/actual text around it."""


def check_prefix_consistency(tokenizer: Any, messages: list[dict[str, Any]] | None = None,
                             tools: list[dict[str, Any]] | None = None) -> TemplateReport:
    """Replays ``messages`` (default: :data:`SCRIPT`) as an agent would: for every assistant
    message, the tokens of (prompt + reply + end-of-turn token) must be a prefix of the next
    rendered prompt (the reply ends with the template's end-of-turn token, as a model samples it)."""
    messages = SCRIPT if messages is None else messages
    with_tools = supports_tools(tokenizer)
    tools = (SCRIPT_TOOLS if tools is None else tools) if with_tools else None
    eot = end_of_turn(tokenizer)
    report = TemplateReport(consistent=True, supports_tools=with_tools, end_of_turn=eot[0] if eot else None)
    for k, msg in enumerate(messages):
        if msg["role"] != "assistant":
            continue
        nxt = next((j for j in range(k + 1, len(messages)) if messages[j]["role"] == "assistant"), len(messages))
        if nxt == k + 1:
            continue
        sampled = render_ids(tokenizer, messages[:k], tools) + encode(tokenizer, msg["content"])
        if eot:
            sampled.append(eot[1])
        later = render_ids(tokenizer, messages[:nxt], tools, generation_prompt=nxt < len(messages))
        report.turns_checked += 1
        pos = first_divergence(sampled, later)
        if pos is not None:
            report.consistent = False
            report.problems.append({
                "turn": report.turns_checked - 1, "position": pos,
                "expected": tokenizer.decode(sampled[max(0, pos - 8):pos + 12]),
                "rendered": tokenizer.decode(later[max(0, pos - 8):pos + 12])})
    return report
