"""The openai backend against a real server process serving the tiny model, and against a stub
server that misbehaves (500s, 429s, timeouts, malformed bodies, refusals)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from arenas.agents.llm.agent import LLMAgent, LLMConfig
from arenas.agents.llm.factory import make_llm_factory
from arenas.agents.llm.remote import OpenAIBackend, parse_chat_response
from arenas.agents.llm.server import chat_completion
from arenas.rollout import RunConfig, iter_rollouts
from arenas.tools import parse_tool_calls
from tests.agents.conftest import ScriptedBackend, forward_logprobs
from tests.core.guess_arena import GuessArena

GUESS_3 = '<tool_call>\n{"name": "guess", "arguments": {"number": 3}}\n</tool_call>'


def _rollouts(factory, n=1, concurrency=1, max_turns=2):
    cfg = RunConfig(arena="guess", agent="openai:test", n=n, concurrency=concurrency)
    return list(iter_rollouts(cfg, factory, make_arena=lambda: GuessArena(max_turns=max_turns)))


def test_served_tiny_model_gives_token_level_trajectories(model_server, tiny_model):
    from transformers import AutoModelForCausalLM

    factory = make_llm_factory("openai", tiny_model, base_url=model_server, max_tokens=10, concurrency=4)
    trajs = _rollouts(factory, n=4, concurrency=4)
    assert all(t.error is None for t in trajs) and len(trajs) == 4
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    for t in trajs:
        assert t.meta["text_only"] is False and sum(t.tokens["mask"]) == t.token_counts["completion"]
        for turn in t.turns:  # each reply's logprobs hold under the prompt the server rendered
            meta = turn.action["meta"]
            prompt = meta.get("prompt_ids") or t.tokens["ids"][:meta["prompt_len"]]
            ref = forward_logprobs(model, prompt + meta["completion_ids"])
            got = meta["logprobs"]
            assert max(abs(a - b) for a, b in zip(ref[-len(got):], got, strict=True)) < 1e-3
        first = t.turns[0].action["meta"]
        n = first["prompt_len"]
        assert t.tokens["ids"][n:n + len(first["completion_ids"])] == first["completion_ids"]
        assert all(m["cause"] in ("tokenization", "template") for m in t.meta["mismatches"])


def test_server_protocol(model_server):
    models = httpx.get(f"{model_server}/models").json()
    assert models["data"][0]["object"] == "model"
    bad = httpx.post(f"{model_server}/chat/completions", content=b"{not json")
    assert bad.status_code == 400 and "error" in bad.json()
    r = httpx.post(f"{model_server}/chat/completions", json={"model": "m", "messages": [
        {"role": "user", "content": "hi"}], "max_tokens": 3, "logprobs": True}).json()
    assert r["choices"][0]["finish_reason"] in ("stop", "length") and r["usage"]["completion_tokens"] <= 3
    assert "prompt_token_ids" not in r and not r["choices"][0]["logprobs"]["content"][0]["token"].startswith("token_id:")


def test_server_returns_native_tool_calls_with_token_ids(tokenizer):
    backend = ScriptedBackend(tokenizer, ["Let me try. " + GUESS_3])
    tools = [GuessArena().tools()[0].to_openai()]
    r = chat_completion(backend, "m", {"messages": [{"role": "user", "content": "go"}], "tools": tools,
                                       "logprobs": True, "return_tokens_as_token_ids": True,
                                       "return_token_ids": True})
    choice = r["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] == "Let me try."
    call = choice["message"]["tool_calls"][0]["function"]
    assert call["name"] == "guess" and json.loads(call["arguments"]) == {"number": 3}
    assert r["prompt_token_ids"] == backend.prompts[0]
    c = parse_chat_response(r)
    assert c.completion_ids == choice["token_ids"] and c.logprobs == [-0.5] * len(c.completion_ids)
    assert c.prompt_ids == backend.prompts[0] and c.tool_calls


# ---- a misbehaving server ------------------------------------------------------------------
class StubServer(ThreadingHTTPServer):
    """Answers request k (0-based) with ``script(k, body) -> (status, payload, headers, delay_s)``."""

    daemon_threads = True

    def __init__(self, script):
        super().__init__(("127.0.0.1", 0), _StubHandler)
        self.script = script
        self.bodies: list[dict] = []
        self.lock = threading.Lock()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _StubHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            k = len(self.server.bodies)
            self.server.bodies.append(body)
        status, payload, headers, delay = self.server.script(k, body)
        time.sleep(delay)
        data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        try:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up (timeout test)


def ok(content=GUESS_3, finish="stop", tool_calls=None):
    message = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return (200, {"choices": [{"index": 0, "message": message, "finish_reason": finish}],
                  "usage": {"prompt_tokens": 50, "completion_tokens": 10}}, {}, 0.0)


@pytest.fixture
def stub():
    servers = []

    def start(script):
        servers.append(StubServer(script))
        return servers[-1]

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def _agent_factory(server, **options):
    options = {"base_url": server.url, "max_retries": 2, "backoff_s": 0.01, "timeout_s": 2.0, **options}
    return make_llm_factory("openai", "stub-model", **options)


def test_transient_failures_are_retried(stub):
    failures = {0: (500, "boom", {}, 0.0), 1: (429, "slow down", {"Retry-After": "0"}, 0.0),
                2: (200, "not json", {}, 0.0), 3: (200, {"choices": []}, {}, 0.0), 4: (502, "", {}, 0.0),
                5: ok("", "stop")[:2] + ({}, 0.6)}
    server = stub(lambda k, body: failures.get(k, ok()))
    [t] = _rollouts(_agent_factory(server, max_retries=6, timeout_s=0.3))
    assert t.error is None and len(t.turns) == 2 and t.meta["text_only"] is True
    assert any("retried" in e for e in t.meta["errors"])
    assert server.bodies[0]["logprobs"] is True and server.bodies[0]["return_tokens_as_token_ids"] is True


def test_a_dead_server_fails_one_episode_not_the_run(stub):
    server = stub(lambda k, body: (500, "down", {}, 0.0) if k < 3 else ok())
    trajs = _rollouts(_agent_factory(server), n=3)
    errors = [t for t in trajs if t.error]
    assert len(errors) == 1 and "BackendError" in errors[0].error and "HTTP 500" in errors[0].error
    assert sum(len(t.turns) == 2 for t in trajs) == 2
    server = stub(lambda k, body: ok("", "stop")[:2] + ({}, 1.0))
    [t] = _rollouts(_agent_factory(server, max_retries=1, timeout_s=0.2))
    assert "timeout" in t.error


def test_rejected_token_fields_make_episodes_text_only(stub):
    def script(k, body):
        if "return_tokens_as_token_ids" in body:
            return 400, {"error": {"message": "unknown field return_tokens_as_token_ids"}}, {}, 0.0
        return ok()

    server = stub(script)
    factory = _agent_factory(server)
    [t] = _rollouts(factory)
    assert t.error is None and t.meta["text_only"] is True and t.tokens is None
    assert factory.backend.token_ids is False


def test_malformed_tool_calls_and_overlong_replies_are_recorded(stub):
    calls = [{"id": "c0", "type": "function", "function": {"name": "guess", "arguments": '{"number": 3}'}},
             {"id": "c1", "type": "function", "function": {"name": "guess", "arguments": "{number: 3"}}]
    replies = {0: ok(None, "tool_calls", calls), 1: ok("I am still thinking about" * 40, "length")}
    server = stub(lambda k, body: replies.get(k, ok()))
    [t] = _rollouts(_agent_factory(server), max_turns=3)
    assert t.error is None and len(t.turns) == 3 and t.invalid_actions == 2
    assert t.turns[0].action["parse_errors"] and "not valid JSON" in t.turns[0].action["parse_errors"][0]
    assert t.meta["finish_reasons"] == {"stop": 2, "length": 1}
    assert "tools" in server.bodies[0] and server.bodies[0]["tools"][0]["function"]["name"] == "guess"
    # the valid native call goes back with its result as role "tool"; the malformed one is dropped
    history = server.bodies[1]["messages"]
    assert [tc["id"] for tc in history[-3]["tool_calls"]] == ["c0"]
    assert history[-2]["role"] == "tool" and history[-2]["tool_call_id"] == "c0"
    assert history[-1]["role"] == "user" and "not valid JSON" in history[-1]["content"]


def test_context_length_refusal_stops_the_episode_cleanly(stub):
    server = stub(lambda k, body: (400, {"error": {"message": "This model's maximum context length is 8"}}, {}, 0.0))
    [t] = _rollouts(_agent_factory(server), max_turns=3)
    assert t.error is None and t.meta["stop_reason"] == "context_length" and len(server.bodies) == 1
    assert t.termination == "context_exhausted"


def test_rejected_native_tools_fall_back_to_text(stub):
    def script(k, body):
        if "tools" in body:
            return 400, {"error": {"message": "tools need --enable-auto-tool-choice"}}, {}, 0.0
        return ok()

    server = stub(script)
    backend = OpenAIBackend("m", base_url=server.url, max_retries=0)
    factory = lambda: LLMAgent(backend, LLMConfig())  # noqa: E731
    first, second = _rollouts(factory, n=2, max_turns=3)
    assert first.error is None and len(first.turns) == 3 and "native tools" in first.meta["errors"][0]
    assert second.error is None and len(second.turns) == 3 and not second.meta["errors"]
    assert backend.token_ids  # the refusal was about tools, not the token fields
    assert sum("tools" in body for body in server.bodies) == 1
    for body in server.bodies[1:]:
        system = body["messages"][0]
        assert system["role"] == "system" and '"name": "guess"' in system["content"]
        assert all(m["role"] != "tool" for m in body["messages"])


def test_switch_to_text_tools_rewrites_native_history(tokenizer):
    agent = LLMAgent(ScriptedBackend(tokenizer, ["x"]), LLMConfig())
    agent.tools = [GuessArena().tools()[0].to_openai()]
    agent.history = [{"role": "user", "content": "go"},
                     {"role": "assistant", "content": None, "tool_calls": [
                         {"id": "c0", "type": "function", "function": {"name": "guess", "arguments": '{"number": 3}'}}]},
                     {"role": "tool", "tool_call_id": "c0", "content": "higher"}]
    agent._switch_to_text_tools()
    system, user, assistant, tool = agent.history
    assert system["role"] == "system" and "<tool_call>" in system["content"] and user["content"] == "go"
    parsed, errors = parse_tool_calls(assistant["content"])  # the core parser reads the rewritten call
    assert not errors and parsed[0].name == "guess" and parsed[0].arguments == {"number": 3}
    assert tool == {"role": "user", "content": "<tool_response>\nhigher\n</tool_response>"}


def test_completions_api_gives_exact_token_sequences(model_server, tiny_model):
    from transformers import AutoModelForCausalLM

    factory = make_llm_factory("openai", "served", base_url=model_server, tokenizer=tiny_model, api="completions",
                               max_tokens=8, concurrency=3)
    assert factory.backend.kind == "tokens"
    trajs = _rollouts(factory, n=3, concurrency=3)
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    for t in trajs:
        assert t.error is None and t.meta["text_only"] is False
        ids, mask, lps = t.tokens["ids"], t.tokens["mask"], t.tokens["logprobs"]
        ref = forward_logprobs(model, ids)  # the whole episode, mismatches or not
        assert max(abs(r - lp) for r, lp, m in zip(ref, lps, mask, strict=True) if m) < 1e-3
    with pytest.raises(ValueError, match="tokenizer"):
        make_llm_factory("openai", "served", base_url=model_server, api="completions")


def test_auth_errors_are_not_retried_or_misread(stub):
    server = stub(lambda k, body: (401, {"error": {"message": "invalid api key"}}, {}, 0.0))
    factory = _agent_factory(server)
    [t] = _rollouts(factory)
    assert "HTTP 401" in t.error and len(server.bodies) == 1
    assert factory.backend.token_ids and factory.backend.native_tools


def test_a_stalled_turn_is_bounded_by_the_total_deadline(stub):
    """Retries x timeout would be 10 x 1 s; the deadline ends the turn after about 2 s."""
    server = stub(lambda k, body: (200, ok()[1], {}, 5.0))
    start = time.perf_counter()
    [t] = _rollouts(_agent_factory(server, max_retries=10, timeout_s=1.0, deadline_s=2.0))
    assert time.perf_counter() - start < 4.0
    assert t.error is not None and "deadline" in t.error


def test_a_server_ignoring_max_tokens_is_refused_not_stored(stub):
    huge = ok("x" * 3_000_000)
    server = stub(lambda k, body: huge)
    [t] = _rollouts(_agent_factory(server, max_response_bytes=1_000_000))
    assert t.error is not None and "larger than 1,000,000 bytes" in t.error
    assert len(t.to_json()) < 200_000


def test_the_next_prompt_is_counted_before_it_is_sent(stub):
    """The server counted 120 tokens so far; the arena's next message adds about 700 more, past a
    600-token context: the agent ends the episode instead of sending a prompt the server refuses."""
    server = stub(lambda k, body: (200, {"choices": [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "content": "I think it is 5."}}], "usage": {"prompt_tokens": 100, "completion_tokens": 20}},
        {}, 0.0))

    class Verbose(GuessArena):
        def on_text(self, action):
            return "Please use the guess tool. " + "x" * 2000

    factory = _agent_factory(server, max_context=600)
    cfg = RunConfig(arena="guess", agent="openai:test", n=1)
    [t] = list(iter_rollouts(cfg, factory, make_arena=lambda: Verbose(max_turns=5)))
    assert t.error is None and t.termination == "context_exhausted" and len(server.bodies) == 1
