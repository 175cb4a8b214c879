"""The LLM agent: one chat history per episode on top of a shared model backend.

Per turn the agent adds the arena's new messages to its history, asks the backend for a reply,
and returns it as an :class:`~arenas.types.Action` whose ``meta`` holds the turn's token data.
Token backends get the prompt as token ids that the agent renders itself, so the episode's
token sequence (:class:`~arenas.agents.llm.ledger.TokenLedger`) is exactly what the model saw;
chat backends send messages and the sequence is rebuilt from the ids the server returns, or the
episode is marked text-only when it returns none.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from arenas.agent import AgentStop, EpisodeContext
from arenas.agents.llm.backend import Completion, ContextLengthError, SamplingParams, ToolsRejected
from arenas.agents.llm.ledger import TokenLedger
from arenas.agents.llm.template import (
    encode,
    end_of_turn,
    env_delta,
    render,
    supports_tools,
    tools_system_text,
)
from arenas.tools import action_from_openai
from arenas.types import Action, Observation

STOP_TERMINATIONS = {"context_length": "context_exhausted", "episode_budget": "episode_token_budget"}
"""The agent's stop reason -> the episode's termination."""


@dataclass
class LLMConfig:
    """Sampling and episode policy of the LLM agent (the ``-o key=value`` agent options)."""

    temperature: float = 1.0
    """Sampling temperature; 0 is greedy."""
    top_p: float = 1.0
    max_tokens: int = 512
    """Sampled tokens per turn at most."""
    max_episode_tokens: int | None = None
    """Length cap of the episode's whole token sequence (prompts + replies); bounds what a
    trainer must fit. A turn gets at most what is left; see ``min_turn_tokens``."""
    max_context: int | None = None
    """Context length; defaults to the backend's (the model's position limit or the server's)."""
    min_turn_tokens: int = 16
    """Truncation policy: when fewer tokens than this are left for a reply (context or episode
    budget), or the server refuses the prompt as too long, the agent ends the episode
    (:class:`~arenas.agent.AgentStop`): termination ``context_exhausted`` or
    ``episode_token_budget``, what was done scored as at the turn cap; the reason is also
    recorded as ``stop_reason``. History is never cut, so the token sequence stays one valid
    prefix-consistent sequence."""
    system_prompt: str | None = None
    """Put before the arena's own system message (or used alone when the arena sends none)."""
    think: Literal["keep", "strip"] = "keep"
    """``<think>`` reasoning in the chat history: ``keep`` it, or ``strip`` it. Either way the
    trajectory keeps it (``Action.meta["reasoning"]`` and the token sequence) and tool calls are
    parsed from the text after ``</think>`` only. ``strip`` changes what chat backends' servers
    see; token backends continue from the sampled tokens (the re-render then differs and is
    counted as a template mismatch), so one episode stays one trainable sequence."""
    tool_mode: Literal["auto", "native", "text"] = "auto"
    """``native``: tools go to the chat template / server as OpenAI schemas; ``text``: they are
    described in the system prompt with the core's ``<tool_call>`` format; ``auto``: native
    where the template or server supports it."""
    seed: int | None = None
    """Base of per-request seeds (mixed with the episode's seed, rollout and turn)."""


_THINK = re.compile(r"^\s*<think>(.*?)(?:</think>\s*|\Z)", re.S)


def split_reasoning(text: str) -> tuple[str | None, str]:
    """(reasoning, answer) of a reply that may open with a ``<think>`` block, or that closes one
    the generation prompt opened (templates that end with ``<think>\n``)."""
    m = _THINK.match(text)
    if m:
        return m.group(1).strip(), text[m.end():]
    if "</think>" in text and "<think>" not in text:
        before, _, after = text.partition("</think>")
        return before.strip(), after.lstrip()
    return None, text


class LLMAgent:
    """Plays one episode; made fresh per episode by the factory, sharing its backend."""

    def __init__(self, backend: Any, config: LLMConfig | None = None):
        self.backend = backend
        self.config = config or LLMConfig()

    # ---- episode -------------------------------------------------------------------------
    def reset(self, context: EpisodeContext) -> None:
        self.context = context
        self.tools = list(context.tools)
        self.history: list[dict[str, Any]] = []
        self.ledger = TokenLedger()
        self.turn = 0
        self.text_only = False
        self.stop_reason: str | None = None
        self.errors: list[str] = []
        self.finish_reasons: Counter[str] = Counter()
        self.prompt_tokens = self.completion_tokens = self.sequence_tokens = 0
        self.native_tools = self._native_tools()
        self._started = False

    def _native_tools(self) -> bool:
        mode = self.config.tool_mode
        if mode != "auto" or not self.tools:
            return mode == "native" and bool(self.tools)
        if self.backend.kind == "tokens":
            return supports_tools(self.backend.tokenizer)
        return bool(getattr(self.backend, "native_tools", False))

    def act(self, observation: Observation) -> Action:
        self._add_observation(observation.messages)
        if self.stop_reason is not None:
            self._stop(self.stop_reason)
        if self.backend.kind == "tokens":
            action = self._act_tokens()
        else:
            action = self._act_chat()
        self.turn += 1
        return action

    def _add_observation(self, messages: list[dict[str, Any]]) -> None:
        new = [dict(m) for m in messages]
        if not self._started:
            self._started = True
            new = self._with_system_prompt(new)
        if not self.native_tools:
            new = [_tool_as_user(m) if m.get("role") == "tool" else m for m in new]
        self._new = new
        self.history.extend(new)

    def _with_system_prompt(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        parts = [self.config.system_prompt] if self.config.system_prompt else []
        rest = messages
        if messages and messages[0].get("role") == "system":
            parts.append(str(messages[0].get("content") or ""))
            rest = messages[1:]
        if self.tools and not self.native_tools:
            parts.append(tools_system_text(self.tools))
        if not parts:
            return rest
        return [{"role": "system", "content": "\n\n".join(p for p in parts if p)}] + rest

    def _params(self, max_tokens: int) -> SamplingParams:
        seed = None
        if self.config.seed is not None:
            seed = (self.config.seed * 1_000_003 + self.context.seed * 10_007 + self.context.rollout * 101
                    + self.turn) % 2**31
        return SamplingParams(self.config.temperature, self.config.top_p, max_tokens, seed)

    def _room(self, used: int) -> tuple[int, str | None]:
        """Reply tokens allowed after ``used`` tokens of sequence; the limit that stops the
        model (the truncation policy), or None."""
        limit = self.config.max_context or getattr(self.backend, "max_context", None) or 1 << 30
        left, reason = limit - used, "context_length"
        budget = self.config.max_episode_tokens
        if budget is not None and budget - used < left:
            left, reason = budget - used, "episode_budget"
        stop = left < min(self.config.min_turn_tokens, self.config.max_tokens)
        return min(self.config.max_tokens, left), reason if stop else None

    def _stop(self, reason: str) -> Action:
        """Ends the episode: the model has no room left for a reply."""
        self.stop_reason = reason
        raise AgentStop(STOP_TERMINATIONS[reason], f"no room left for a reply ({reason})")

    def _new_tokens(self) -> int:
        """Tokens the new messages add to a chat prompt: counted with the local tokenizer when
        there is one, else over-estimated (3 characters a token), plus the template's
        per-message overhead, so the room left is never over-stated."""
        tok = getattr(self.backend, "tokenizer", None)
        total = 0
        for m in self._new:
            text = str(m.get("content") or "")
            total += (len(tok.encode(text, add_special_tokens=False)) if tok is not None else -(-len(text) // 3)) + 8
        return total

    # ---- token backends --------------------------------------------------------------------
    def _act_tokens(self) -> Action:
        tok = self.backend.tokenizer
        tools = self.tools if self.native_tools else None
        rendered = render(tok, self.history, tools)
        prompt = encode(tok, rendered)
        if self.turn > 0:
            pos = self.ledger.divergence(prompt)
            if pos is not None:
                same_text = rendered.startswith(tok.decode(self.ledger.ids, skip_special_tokens=False))
                self.ledger.add_mismatch(self.turn, pos, cause="tokenization" if same_text else "template")
                prompt = self.ledger.ids + env_delta(tok, self._new, tools, self._reply_closed(tok))
        room, stop = self._room(len(prompt))
        if stop:
            return self._stop(stop)
        completion = self.backend.generate(prompt, self._params(room))
        self.ledger.add_prompt(prompt)
        ids = completion.completion_ids or []
        self.ledger.add_reply(ids, completion.logprobs if completion.logprobs is not None else [0.0] * len(ids))
        self.text_only = self.text_only or completion.logprobs is None
        body = ids[:-1] if ids and ids[-1] in self.backend.eos_ids else ids
        return self._finish_turn(completion, tok.decode(body, skip_special_tokens=False), None)

    # ---- chat backends ---------------------------------------------------------------------
    def _act_chat(self) -> Action:
        room, stop = self._room(self.sequence_tokens + self._new_tokens())
        if stop:
            return self._stop(stop)
        try:
            try:
                completion = self.backend.chat(self.history, self.tools if self.native_tools else None,
                                               self._params(room))
            except ToolsRejected as e:
                self.errors.append(f"turn {self.turn}: {e}")
                self._switch_to_text_tools()
                completion = self.backend.chat(self.history, None, self._params(room))
        except ContextLengthError as e:
            self.errors.append(f"turn {self.turn}: {e}")
            return self._stop("context_length")
        if self.text_only or not (completion.prompt_ids and completion.completion_ids is not None
                                  and completion.logprobs is not None):
            self.text_only = True
        elif self._add_server_prompt(completion.prompt_ids):
            self.ledger.add_reply(completion.completion_ids, completion.logprobs)
        else:
            self.text_only = True
        text = completion.text
        if completion.reasoning:
            text = f"<think>\n{completion.reasoning}\n</think>\n\n{text}"
        return self._finish_turn(completion, text, completion.tool_calls)

    def _switch_to_text_tools(self) -> None:
        """Rewrites the history for a server without native tools: tool schemas in the system
        message, tool calls and results as Hermes-style text."""
        self.native_tools = False
        history = []
        for m in self.history:
            if m.get("role") == "tool":
                m = _tool_as_user(m)
            elif m.get("tool_calls"):
                blocks = [f'<tool_call>\n{{"name": "{tc["function"]["name"]}", "arguments": '
                          f'{tc["function"]["arguments"]}}}\n</tool_call>' for tc in m["tool_calls"]]
                m = {"role": "assistant", "content": "\n".join([m.get("content") or ""] + blocks).strip()}
            history.append(m)
        text = tools_system_text(self.tools)
        if history and history[0].get("role") == "system":
            history[0] = {"role": "system", "content": f"{history[0].get('content') or ''}\n\n{text}"}
        else:
            history.insert(0, {"role": "system", "content": text})
        self.history = history

    def _add_server_prompt(self, prompt: list[int]) -> bool:
        """Extends the sequence with a server-rendered prompt; False when it cannot be aligned.
        On a mismatch the sampled tokens stay and only the new messages are appended, rendered
        with the local tokenizer when the backend has one. The server sampled the reply after
        its own rendering, so that reply's logprobs are conditioned on it, not on the sequence
        (the mismatch record says which turns)."""
        pos = self.ledger.divergence(prompt) if self.turn > 0 else None
        if pos is None:
            self.ledger.add_prompt(prompt)
            return True
        tok = getattr(self.backend, "tokenizer", None)
        if tok is None:
            return self.ledger.resync(prompt, self.turn)
        same_text = tok.decode(prompt, skip_special_tokens=False).startswith(
            tok.decode(self.ledger.ids, skip_special_tokens=False))
        self.ledger.add_mismatch(self.turn, pos, cause="tokenization" if same_text else "template")
        self.ledger.add_environment(env_delta(tok, self._new, None, self._reply_closed(tok)))
        return True

    def _reply_closed(self, tokenizer: Any) -> bool:
        """Whether the last reply sampled the template's end-of-turn token itself."""
        eot = end_of_turn(tokenizer)
        return bool(self.ledger.last_reply) and eot is not None and self.ledger.last_reply[-1] == eot[1]

    # ---- shared ----------------------------------------------------------------------------
    def _finish_turn(self, completion: Completion, text: str, tool_calls: list[dict] | None) -> Action:
        self.prompt_tokens += int(completion.usage.get("prompt_tokens", len(completion.prompt_ids or [])))
        self.completion_tokens += int(completion.usage.get("completion_tokens",
                                                           len(completion.completion_ids or [])))
        self.finish_reasons[completion.finish_reason] += 1
        self.sequence_tokens = (len(self.ledger.ids) if self.ledger.ids else
                                int(completion.usage.get("prompt_tokens", 0))
                                + int(completion.usage.get("completion_tokens", 0)))
        if completion.retries:
            self.errors.append(f"turn {self.turn}: {completion.retries} retried request(s)")
        reasoning, answer = split_reasoning(text)
        action = action_from_openai(answer, tool_calls)
        content = text if self.config.think == "keep" else answer
        message: dict[str, Any] = {"role": "assistant", "content": content}
        valid = {c.id for c in action.tool_calls}
        if tool_calls and any(tc.get("id") in valid for tc in tool_calls):
            # only calls the arena will answer: servers reject tool calls left without a result
            message["tool_calls"] = [tc for tc in tool_calls if tc.get("id") in valid]
        self.history.append(message)
        prompt = completion.prompt_ids
        action.meta = {"finish_reason": completion.finish_reason, "latency": completion.latency,
                       "prompt_len": len(prompt) if prompt is not None else None,
                       "completion_ids": completion.completion_ids, "logprobs": completion.logprobs}
        if prompt is not None and self.ledger.ids[:len(prompt)] != list(prompt):
            # the episode sequence does not hold this prompt (template mismatch): keep it whole
            action.meta["prompt_ids"] = prompt
        if reasoning is not None:
            action.meta["reasoning"] = reasoning
        return action

    def episode_record(self) -> dict[str, Any]:
        """Token sequence and accounting of the episode (see the package docstring)."""
        return {
            "tokens": None if self.text_only else self.ledger.to_dict(),
            "token_counts": {"prompt": self.prompt_tokens, "completion": self.completion_tokens},
            "text_only": self.text_only,
            "template_mismatch": len(self.ledger.mismatches),
            "mismatches": self.ledger.mismatches,
            "stop_reason": self.stop_reason,
            "finish_reasons": dict(self.finish_reasons),
            "errors": self.errors,
        }


def _tool_as_user(message: dict[str, Any]) -> dict[str, Any]:
    """A tool result for servers that get no native tools: Hermes-style text in a user turn."""
    return {"role": "user", "content": f"<tool_response>\n{message.get('content', '')}\n</tool_response>"}
