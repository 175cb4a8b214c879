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
