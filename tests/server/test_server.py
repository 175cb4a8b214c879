"""The env server: protocol, security and robustness, and served arenas that play exactly like
local ones through RemoteArena (the conformance kit included)."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from websockets.sync.client import connect

from arenas.agent_spec import make_agent_factory
from arenas.config import ConfigError
from arenas.registry import make
from arenas.remote import RemoteArena, RemoteError
from arenas.rollout import RunConfig, iter_rollouts
from arenas.server import ServerConfig
from arenas.testing import check_arena
from arenas.tools import as_action
from tests.server.conftest import serve_env_process


def _ws(url: str, **kw):
    return connect(url.replace("http://", "ws://") + "/ws", **kw)


def _ask(ws, message: dict) -> dict:
    ws.send(json.dumps(message))
    return json.loads(ws.recv(timeout=30))


def _episodes(config: RunConfig, **kw) -> list[tuple]:
    """What must match between a local and a remote run: keys, every step's reward, breakdowns."""
    trajs = iter_rollouts(config, make_agent_factory(config.agent), **kw)
    return sorted((t.key, t.error, t.reward, [u.reward for u in t.turns], t.termination,
                   json.dumps(t.breakdown, sort_keys=True), t.invalid_actions) for t in trajs)


def test_served_arena_passes_the_conformance_kit(served):
    with served("guess-served") as url:
        report = check_arena("guess-served", {"remote": url}, episodes=3)
    assert report["episodes"]


@pytest.mark.parametrize("agent", ["oracle", "random"])
def test_remote_rollouts_match_local_exactly(served, agent):
    config = RunConfig(arena="guess-served", agent=agent, n=12, rollouts=2, concurrency=4)
    with served("guess-served") as url:
        remote = _episodes(config, make_arena=lambda: make("guess-served", remote=url))
    local = _episodes(config)
    assert remote == local
    assert all(e[1] is None for e in remote)


def test_arenas_serve_env_process_plays_memory_like_local():
    service = serve_env_process("memory")
    try:
        url = f"http://127.0.0.1:{service.port}"
        remote = _episodes(RunConfig(arena="memory", agent="heuristic", n=3, concurrency=3,
                                     arena_config={"remote": url}))
    finally:
        service.stop()
    local = _episodes(RunConfig(arena="memory", agent="heuristic", n=3, concurrency=3))
    assert remote == local
    assert all(e[1] is None and len(e[3]) > 10 for e in remote)


def test_openenv_client_plays_the_sql_oracle_episode():
    pytest.importorskip("openenv.core.generic_client")
    from openenv.core.generic_client import GenericEnvClient

    service = serve_env_process("sql")
    try:
        with make("sql") as local:
            task = local.sample_tasks("test", 1, seed=0)[0]
            obs = local.reset(task=task, seed=0)
            oracle = local.policy("oracle")
            total, done = 0.0, False
            with GenericEnvClient(base_url=f"http://127.0.0.1:{service.port}").sync() as env:
                first = env.reset(task_id=task.id, split="test", seed=0)
                assert first.observation["messages"] == obs.to_dict()["messages"]
                while not done:  # the oracle's actions, made from a local twin of the episode
                    action = as_action(oracle(obs))
                    obs = local.step(action).observation
                    result = env.step(action.to_dict())
                    total += result.reward
                    done = result.done
                state = env.state()
        assert done and total == pytest.approx(1.0)
        assert state["task_id"] == task.id and state["done"]
    finally:
        service.stop()


def test_malformed_requests_get_4xx_or_error_messages_with_the_session_kept(served):
    with served("guess-served", max_request_bytes=4096) as url, _ws(url) as ws:
        assert _ask(ws, {"type": "step", "data": {"text": "x"}})["data"]["code"] == "EPISODE_DONE"
        ws.send("{not json")
        assert json.loads(ws.recv(timeout=10))["data"]["code"] == "INVALID_JSON"
        assert _ask(ws, {"type": "dance"})["data"]["code"] == "UNKNOWN_TYPE"
        assert _ask(ws, {"type": "reset", "data": {"seed": -1}})["data"]["code"] == "VALIDATION_ERROR"
        assert _ask(ws, {"type": "reset", "data": {"task_id": "nope"}})["data"]["code"] == "UNKNOWN_TASK"
        assert _ask(ws, {"type": "step", "data": {"text": "y" * 5000}})["data"]["code"] == "REQUEST_TOO_LARGE"
        reply = _ask(ws, {"type": "reset", "data": {"seed": 3}})
        assert reply["type"] == "observation" and reply["data"]["done"] is False
        assert reply["data"]["task"]["reference"] == {}
        step = _ask(ws, {"type": "step", "data": {"tool_calls": [{"name": "guess", "arguments": "seven"}]}})
        assert step["type"] in ("observation", "error")
        with httpx.Client(base_url=url) as http:
            assert http.post("/step", json={"session_id": "nope", "action": {}}).status_code == 404
            assert http.post("/reset", content=b"{bad").status_code == 400
            assert http.post("/reset", content=b"[" * 5000).status_code == 413
            assert http.post("/reset", json=[1]).status_code == 400
            assert http.get("/tasks", params={"split": "nope"}).status_code == 404
            tasks = http.get("/tasks", params={"split": "test"}).json()["tasks"]
            assert tasks and all(t["reference"] == {} for t in tasks)
            schema = http.get("/schema").json()
            assert {"action", "observation", "state"} <= set(schema)
            assert http.get("/metadata").json()["name"] == "guess-served"


def test_http_sessions_reset_step_state_close(served):
    with served("guess-served") as url, httpx.Client(base_url=url) as http:
        first = http.post("/reset", json={"task_id": "guess-203", "split": "test", "seed": 0}).json()
        sid = first["session_id"]
        secret = (3 * 7 + 200) % 16
        step = http.post("/step", json={"session_id": sid, "action": {
            "tool_calls": [{"name": "guess", "arguments": {"number": secret}}]}}).json()
        assert step["done"] and step["terminated"] and step["reward"] == pytest.approx(1.1)
        state = http.get("/state", params={"session_id": sid}).json()
        assert state["task_id"] == "guess-203" and state["step_count"] == 1
        assert http.post("/close", json={"session_id": sid}).json() == {"closed": True}
        assert http.get("/state", params={"session_id": sid}).status_code == 404


def test_sessions_never_see_each_other(served):
    with served("guess-served") as url, _ws(url) as a, _ws(url) as b:
        _ask(a, {"type": "reset", "data": {"task_id": "guess-201", "split": "test"}})
        _ask(b, {"type": "reset", "data": {"task_id": "guess-205", "split": "test"}})
        _ask(a, {"type": "step", "data": {"text": "no tool"}})
        sa, sb = _ask(a, {"type": "state"})["data"], _ask(b, {"type": "state"})["data"]
        assert (sa["task_id"], sa["step_count"], sa["invalid_actions"]) == ("guess-201", 1, 1)
        assert (sb["task_id"], sb["step_count"], sb["invalid_actions"]) == ("guess-205", 0, 0)
        assert sa["session_id"] != sb["session_id"]


def test_bearer_token_is_required_except_for_health(served):
    with served("guess-served", token="s3cret") as url, httpx.Client(base_url=url) as http:
        assert http.get("/health").status_code == 200
        assert http.get("/metadata").status_code == 401
        assert http.get("/metadata", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert http.get("/metadata", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        with pytest.raises(ConfigError):
            RemoteArena(url)
        arena = RemoteArena(url, token="s3cret")
        assert arena.reset(seed=1).messages
        arena.close()
    with pytest.raises(ConfigError, match="token"):
        ServerConfig(arena="guess-served", host="0.0.0.0").check()


def test_session_limit_and_idle_timeout(served):
    with served("guess-served", max_sessions=2, idle_timeout_s=0.6) as url:
        with _ws(url) as a, _ws(url) as b, _ws(url) as c:
            assert json.loads(c.recv(timeout=10))["data"]["code"] == "CAPACITY_REACHED"
            assert _ask(a, {"type": "reset", "data": {}})["type"] == "observation"
            reply = json.loads(b.recv(timeout=10))  # b sent nothing: it times out
            assert reply["data"]["code"] == "SESSION_TIMEOUT"
        with httpx.Client(base_url=url) as http:
            sid = http.post("/reset", json={}).json()["session_id"]
            time.sleep(2)  # the reaper runs every min(5 s, timeout / 4)
            assert http.get("/state", params={"session_id": sid}).status_code == 404


def test_a_crashed_arena_ends_its_session_and_is_replaced(served):
    with served("guess-boom") as url:
        with _ws(url) as ws:
            _ask(ws, {"type": "reset", "data": {"seed": 0}})
            reply = _ask(ws, {"type": "step", "data": {"text": "boom"}})
            assert reply["data"]["code"] == "ARENA_CRASHED" and "broke" in reply["data"]["message"]
        arena = RemoteArena(url)
        arena.reset(seed=0)
        with pytest.raises(RemoteError, match="ARENA_CRASHED"):
            arena.step("boom")
        with pytest.raises(RemoteError):
            arena.reset(seed=0)
        arena.close()
        again = RemoteArena(url)
        assert again.reset(seed=0).messages
        assert not again.step('<tool_call>{"name": "guess", "arguments": {"number": 1}}</tool_call>').info.get(
            "invalid_action")
        again.close()
