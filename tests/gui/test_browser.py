"""The shared browser: concurrency from many threads, crash recovery, the rollout engine and the
conformance kit."""

import json
import os
import signal
import threading
import time

import pytest

import arenas
from arenas.gui.arena import GUIArena
from arenas.gui.browser import BrowserCrashed, BrowserHost
from arenas.gui.measure import play_oracle, probe_task


def _ensure_registered():
    if "gui" not in arenas.list():
        arenas.register("gui", "arenas.gui.arena:GUIArena", extra="gui")


def test_eight_concurrent_episodes_share_one_browser():
    types = ["click-button", "enter-text", "click-checkboxes", "click-tab", "login-user", "choose-list",
             "click-option", "focus-text-2"]
    results: dict[int, bool] = {}

    def play(i):
        with GUIArena(max_turns=30) as a:
            results[i] = all(play_oracle(a, probe_task(types[i], 100 + k))["success"] for k in range(3))

    threads = [threading.Thread(target=play, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results == {i: True for i in range(8)}
    assert BrowserHost.shared().browser.is_connected()


def _wait_gone(pid, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        with open(f"/proc/{pid}/stat") as f:
            if f.read().split(") ")[1].startswith("Z"):
                return
        time.sleep(0.05)


def test_a_killed_browser_is_restarted_and_the_episode_raises():
    host = BrowserHost.shared()
    with GUIArena() as a:
        a.reset(task=probe_task("click-button", 1))
        pid = host.browser_pid
        assert pid and pid != os.getpid()
        os.kill(pid, signal.SIGKILL)
        _wait_gone(pid)
        with pytest.raises(BrowserCrashed):
            for _ in range(20):  # the death is noticed on the first call after it
                a.step('<tool_call>{"name": "click", "arguments": {"ref": 1}}</tool_call>')
                time.sleep(0.05)
        assert host.browser_pid != pid and host.connected() and host.restarts >= 1
        assert play_oracle(a, probe_task("click-button", 2))["success"]


def test_the_rollout_engine_records_a_crash_as_an_error_and_goes_on():
    from arenas.rollout import EpisodeJob, play_episode

    class KillingAgent:
        def reset(self, ctx):
            pass

        def act(self, obs):
            os.kill(BrowserHost.shared().browser_pid, signal.SIGKILL)
            _wait_gone(BrowserHost.shared().browser_pid)
            return '<tool_call>{"name": "click", "arguments": {"ref": 1}}</tool_call>'

    with GUIArena() as a:
        traj = play_episode(a, KillingAgent, EpisodeJob(probe_task("click-button", 3), 0, 0), "killer")
        assert traj.error and "BrowserCrashed" in traj.error and traj.termination == "error"
        assert play_oracle(a, probe_task("click-button", 4))["success"]


def test_conformance_kit():
    from arenas.testing import check_arena

    _ensure_registered()
    report = check_arena("gui", {"task_types": "click-button,enter-text,click-checkboxes"}, episodes=2)
    assert report["gym_views"] == ["text"]


def test_run_through_the_engine():
    from arenas.agents import make_agent_factory
    from arenas.rollout import RunConfig, run

    _ensure_registered()
    summary = run(RunConfig(arena="gui", agent="oracle", n=12, split="test", seed=0, concurrency=4,
                            arena_config={"max_turns": 30}), make_agent_factory("oracle"), progress=False)
    assert summary["errors"] == 0 and summary["episodes"] == 12
    assert summary["mean_reward"] >= 0.9, json.dumps(summary)[:500]


def test_the_context_is_replaced_after_many_resets(monkeypatch):
    from arenas.gui import page as page_module

    monkeypatch.setattr(page_module, "RECYCLE_AFTER", 2)
    with GUIArena() as a:
        a.reset(task=probe_task("click-button", 1))
        first = a.page.ctx
        a.reset(task=probe_task("click-button", 2))
        assert a.page.ctx is first
        obs = a.reset(task=probe_task("click-button", 3))
        assert a.page.ctx is not first and "Task: Click on the" in obs.messages[-1]["content"]


def test_pages_reach_no_network_not_even_loopback():
    """A server on 127.0.0.1 gets no request from a task page: fetch, image, WebSocket or navigation."""
    import http.server

    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the standard library's name)
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with GUIArena() as a:
            a.reset(task=probe_task("click-button", 1))
            a.page.evaluate("""async (base) => {
                await fetch(base + '/fetch', {mode: 'no-cors'}).catch(() => null);
                await new Promise(r => { const img = new Image(); img.onload = img.onerror = r; img.src = base + '/img'; });
                await new Promise(r => { const s = new WebSocket(base.replace('http', 'ws') + '/ws');
                    s.onopen = s.onerror = r; }); }""", base)
            assert hits == []
            with pytest.raises(Exception, match="ERR_NAME_NOT_RESOLVED"):
                a.page.call(lambda: a.page.page.goto(base + "/nav"))
            assert play_oracle(a, probe_task("click-button", 2))["success"]
    finally:
        server.shutdown()
        server.server_close()
    assert hits == []


def _renderer_pids(browser_pid):
    from arenas.gui.browser import _descends_from

    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if b"--type=renderer" in cmd and _descends_from(int(p), browser_pid):
                out.append(int(p))
    return out


def test_a_crashed_renderer_ends_the_episode_fast_and_the_next_one_runs():
    host = BrowserHost.shared()
    with GUIArena() as a:
        a.reset(task=probe_task("click-button", 1))
        restarts = host.restarts
        pids = _renderer_pids(host.browser_pid)
        assert pids
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        t0 = time.time()
        with pytest.raises(BrowserCrashed, match="renderer crashed"):
            for _ in range(20):
                a.step('<tool_call>{"name": "click", "arguments": {"ref": 1}}</tool_call>')
                time.sleep(0.05)
        assert time.time() - t0 < 10  # no evaluation left hanging until its timeout
        assert play_oracle(a, probe_task("click-button", 2))["success"]
        assert host.restarts == restarts and host.connected()


@pytest.mark.parametrize("task_type", ["drag-sort-numbers", "drag-items", "click-button"])
def test_a_reset_on_a_loaded_page_gives_the_page_a_fresh_load_gives(task_type):
    from arenas.gui.page import TaskPage

    page = TaskPage(pool_size=1)
    try:
        fresh = page.reset(task_type, 7, 20000, 200, fresh=True)
        again = page.reset(task_type, 7, 20000, 200)
    finally:
        page.close()
    assert json.dumps(again, sort_keys=True, default=str) == json.dumps(fresh, sort_keys=True, default=str)
