"""The GUI arena on real MiniWoB pages in a real Chromium: views, tools, feedback, determinism."""

import json

import pytest

from arenas.gui.measure import play_oracle, probe_task
from arenas.gui.tasks import HELDOUT, included_types, load_tasks


def call(name, **arguments):
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


def ref_of(page_text, needle):
    for line in page_text.splitlines():
        if needle in line and line.lstrip().startswith("["):
            return int(line.split("]")[0].split("[")[1])
    raise AssertionError(f"{needle!r} not in page:\n{page_text}")


def test_included_types_and_splits():
    types = included_types()
    assert len(types) >= 40
    test_types = {t.prompt["task_type"] for t in load_tasks("test")}
    heldout = {t.prompt["task_type"] for t in load_tasks("heldout")}
    assert heldout and heldout <= set(HELDOUT) and not heldout & test_types
    seeds = {s: {t.prompt["seed"] for t in load_tasks(s)} for s in ("train", "dev", "test")}
    assert not seeds["train"] & seeds["test"] and not seeds["dev"] & seeds["test"]


def test_first_observation_lists_the_page_with_refs(arena):
    obs = arena.reset(task=probe_task("click-button", 3))
    page = obs.messages[-1]["content"]
    assert page.startswith("Task: Click on the \"")
    assert "button" in page and "[1]" in page
    assert obs.images == []


def test_same_task_and_seed_give_the_same_page_fresh_or_reused(arena):
    from arenas.gui.arena import GUIArena

    first = arena.reset(task=probe_task("click-checkboxes", 7)).messages[-1]["content"]
    arena.reset(task=probe_task("enter-text", 1))
    again = arena.reset(task=probe_task("click-checkboxes", 7)).messages[-1]["content"]
    with GUIArena() as fresh:
        other = fresh.reset(task=probe_task("click-checkboxes", 7)).messages[-1]["content"]
    assert first == again == other
    assert arena.reset(task=probe_task("click-checkboxes", 8)).messages[-1]["content"] != first


def test_click_the_right_button_succeeds_and_the_wrong_one_fails(arena):
    obs = arena.reset(task=probe_task("click-button", 11))
    page = obs.messages[-1]["content"]
    want = page.split('"')[1]
    r = arena.step(call("click", ref=ref_of(page, f'button "{want}"')))
    assert r.done and r.reward == 1.0 and r.info["termination"] == "page_done"
    obs = arena.reset(task=probe_task("click-button", 11))
    page = obs.messages[-1]["content"]
    wrong = [ln for ln in page.splitlines() if "button" in ln and f'"{want}"' not in ln]
    if wrong:
        r = arena.step(call("click", ref=int(wrong[0].split("]")[0].split("[")[1])))
        assert r.done and r.reward == 0.0


def test_type_and_submit(arena):
    obs = arena.reset(task=probe_task("enter-text", 5))
    page = obs.messages[-1]["content"]
    text = page.split('"')[1]
    r = arena.step(call("type", ref=ref_of(page, "input#tt"), text=text))
    assert not r.done and f'value="{text}"' in r.observation.messages[-1]["content"]
    r = arena.step(call("click", ref=ref_of(page, "Submit")))
    assert r.done and r.reward == 1.0


def test_bad_refs_huge_text_and_bad_keys_are_feedback_not_crashes(arena):
    arena.reset(task=probe_task("enter-text", 5))
    r = arena.step(call("click", ref=9999))
    assert not r.done and "no element with ref 9999" in r.observation.messages[0]["content"]
    r = arena.step(call("type", ref=1, text="x" * 5_000))
    assert not r.done and "text too long" in r.observation.messages[0]["content"]
    r = arena.step(call("press", key="NoSuchKey"))
    assert not r.done and "unknown key" in r.observation.messages[0]["content"]
    r = arena.step(call("wait", ms=10**9))
    assert not r.done and "error" in r.observation.messages[0]["content"]
    r = arena.step(call("select", ref=1, option="x"))
    assert "not a select box" in r.observation.messages[0]["content"]
    r = arena.step(call("preview", action="fly()"))
    assert "preview takes" in r.observation.messages[0]["content"]
    r = arena.step("no tool call here")
    assert r.info["invalid_action"] and not r.done


def test_navigation_away_ends_the_episode_with_feedback(arena):
    arena.reset(task=probe_task("click-button", 2))
    arena.page.evaluate("""() => { const a = document.createElement('a'); a.id = 'away';
        a.href = 'file:///etc/hostname'; a.textContent = 'leave'; document.getElementById('area').appendChild(a); }""")
    page = arena.page.observe(4000, 80)["page"]
    r = arena.step(call("click", ref=ref_of(page, "a#away")))
    assert r.done and r.reward == 0.0 and r.info["termination"] == "navigated_away"
    assert "navigated away" in r.observation.messages[0]["content"]
    obs = arena.reset(task=probe_task("click-button", 2))  # the next episode loads the task again
    assert "Task: Click on the" in obs.messages[-1]["content"]


def test_preview_reports_the_receiver_without_acting(arena):
    for seed in range(40):  # click-test-2 sometimes stacks its two buttons
        obs = arena.reset(task=probe_task("click-test-2", seed))
        info = arena.page.evaluate("""() => { const a = document.getElementById('subbtn').getBoundingClientRect();
            const b = document.getElementById('subbtn2').getBoundingClientRect();
            return !(a.right < b.left || b.right < a.left || a.bottom < b.top || b.bottom < a.top); }""")
        if info:
            break
    page = obs.messages[-1]["content"]
    r = arena.step(call("preview", action=f"click({ref_of(page, 'button#subbtn ')})"))
    text = r.observation.messages[0]["content"]
    assert "would be received by" in text and not r.done
    r = arena.step(call("preview", action="click_xy(500, 500)"))
    assert "nothing" in r.observation.messages[0]["content"]
    assert arena.page.status()["done"] is False


def test_screenshot_and_set_of_marks():
    from arenas.gui.arena import GUIArena

    with GUIArena(screenshot=True, set_of_marks=True, screenshot_scale=2.0) as a:
        obs = a.reset(task=probe_task("click-button", 1))
        png = obs.images[0]
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        import io

        from PIL import Image

        assert Image.open(io.BytesIO(png)).size == (320, 420)
        assert not a.page.evaluate("document.querySelectorAll('.__gui_mark').length")


def test_drag_scroll_hover_tools_run(arena):
    obs = arena.reset(task=probe_task("social-media", 4))
    page = obs.messages[-1]["content"]
    r = arena.step(call("scroll", ref=ref_of(page, "div.media"), dy=80))
    assert "ok" in r.observation.messages[0]["content"]
    r = arena.step(call("hover", ref=ref_of(page, "span.name")))
    assert "ok" in r.observation.messages[0]["content"]
    r = arena.step(call("drag", ref=ref_of(page, "span.name"), to_ref=ref_of(page, "div.body")))
    assert not r.info["invalid_action"]


def test_oracle_solves_every_included_type(arena):
    """One test-split seed per included type (the inclusion script measures 100 seeds each)."""
    failed = []
    for t in included_types():
        out = play_oracle(arena, probe_task(t, 200_000))
        if not out["success"]:
            failed.append((t, out))
    assert len(failed) <= 1, failed


def test_random_policy_rarely_succeeds(arena):
    wins = 0
    tasks = arena.sample_tasks("test", 30, seed=1)
    for task in tasks:
        arena.reset(task=task, seed=0)
        policy = arena.policy("random")
        while True:
            r = arena.step(policy(None))
            if r.done:
                break
        wins += r.reward > 0.5
    assert wins < 15


def test_an_input_the_page_refuses_is_feedback(arena):
    obs = arena.reset(task=probe_task("choose-list", 1))
    arena.page.evaluate("() => { document.querySelector('#area select').disabled = true; }")
    page = arena.page.observe(4000, 80)["page"]
    assert "disabled" in page
    option = page.split('options=["')[1].split('"')[0]
    r = arena.step(call("select", ref=ref_of(page, "select#options"), option=option))
    assert not r.done and "could not do it" in r.observation.messages[0]["content"]
    assert obs.messages[-1]["content"]


def _page_text(arena, task_type, seed):
    return arena.reset(task=probe_task(task_type, seed)).messages[-1]["content"]


def test_pooled_pages_give_the_same_page_as_a_fresh_load():
    """A pool hit regenerates in place, a miss loads into an evicted page that held another type;
    both must show what a fresh arena shows for (type, seed)."""
    from arenas.gui.arena import GUIArena

    with GUIArena(page_pool=2) as a, GUIArena(page_pool=1) as fresh:
        pool = a.page
        first = _page_text(a, "click-checkboxes", 7)
        assert pool.loads == 1
        _page_text(a, "enter-text", 1)
        assert _page_text(a, "click-checkboxes", 7) == first and pool.loads == 2  # a hit: no load
        _page_text(a, "click-button", 2)  # evicts enter-text
        _page_text(a, "login-user", 3)  # evicts click-checkboxes
        assert list(pool.tabs) == ["click-button", "login-user"] and len(pool.ctx.pages) == 2
        again = _page_text(a, "click-checkboxes", 7)  # loaded into the page that held click-button
        assert pool.loads == 5
        assert again == first == _page_text(fresh, "click-checkboxes", 7)
        for t, seed in (("login-user", 3), ("click-tab", 4)):
            assert _page_text(a, t, seed) == _page_text(fresh, t, seed)


def test_the_pool_is_bounded_and_a_popup_is_closed():
    from arenas.gui.arena import GUIArena

    with GUIArena(page_pool=3) as a:
        for i, t in enumerate(["click-button", "enter-text", "click-tab", "login-user", "choose-list"]):
            a.reset(task=probe_task(t, i))
        assert len(a.page.tabs) == 3 and len(a.page.ctx.pages) == 3
        a.page.evaluate("() => { window.open('about:blank'); }")
        a.page.evaluate("() => new Promise(r => setTimeout(r, 300))")
        assert len(a.page.ctx.pages) == 3
        assert play_oracle(a, probe_task("click-button", 9))["success"]


def test_page_pool_must_be_positive():
    from arenas.gui.arena import GUIArena

    with pytest.raises(ValueError, match="page_pool"):
        GUIArena(page_pool=0)
