"""GUI arena speed against bare Playwright on the same MiniWoB page, in the same process.

Resets: on the type already loaded; switching between types held in the arena's page pool; on a
type that is not in the pool (a page load: the types cycle through one more than the pool holds,
so every reset misses); and on task types drawn uniformly from the test split (the mix a run over
the whole split sees). Steps: a click step and a type step, each including the text observation.

The click step is compared with a bare Playwright ``page.click(selector)`` and with a raw
``page.mouse.click(x, y)`` (the floor: no lookup, no observation), one call of each in turn, so
that a shared machine's changing load hits all three alike; ratios are of the medians.

    python benchmarks/gui_speed.py [--n 300]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time

from arenas.gui.arena import GUIArena
from arenas.gui.browser import LAUNCH_ARGS, chromium_path
from arenas.gui.measure import probe_task
from arenas.gui.page import POOL_SIZE, task_url
from arenas.gui.tasks import types_of

TYPES = ["click-checkboxes", "enter-text", "click-button", "login-user", "click-tab", "choose-list",
         "click-option", "focus-text-2"]


def _times_ms(fn, n: int) -> list[float]:
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _median_ms(fn, n: int) -> float:
    return statistics.median(_times_ms(fn, n))


def call(name: str, **arguments) -> str:
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


def _ref(obs, needle: str) -> int:
    return int(obs.messages[-1]["content"].split(needle)[0].rsplit("[", 1)[1].split("]")[0])


def reset_numbers(n: int) -> dict[str, float]:
    out = {}
    with GUIArena(max_turns=10**6) as a:
        a.reset(task=probe_task("click-checkboxes", 0))
        out["reset_same_type_ms"] = _median_ms(lambda i: a.reset(task=probe_task("click-checkboxes", i)), n)
        pair = TYPES[:2]
        out["reset_switch_in_pool_ms"] = _median_ms(lambda i: a.reset(task=probe_task(pair[i % 2], i)), n)
        cycle = TYPES[:POOL_SIZE + 1]
        for t in cycle:
            a.reset(task=probe_task(t, 0))
        loads = a.page.loads
        m = max(30, n // 5)
        out["reset_switch_page_load_ms"] = _median_ms(lambda i: a.reset(task=probe_task(cycle[i % len(cycle)], i)), m)
        assert a.page.loads - loads == m, "every reset of the cycle must load its page"
        rng = random.Random(0)
        split = types_of("test")
        loads = a.page.loads
        out["reset_random_test_type_ms"] = _median_ms(lambda i: a.reset(task=probe_task(rng.choice(split), i)), m)
        out["random_type_pool_hit_rate"] = 1 - (a.page.loads - loads) / m
    return out


def step_numbers(n: int) -> dict[str, float]:
    out = {}
    with GUIArena(max_turns=10**6) as a:
        obs = a.reset(task=probe_task("enter-text", 1))
        ref = _ref(obs, "input#tt")
        out["type_step_ms"] = _median_ms(lambda i: a.step(call("type", ref=ref, text="hello")), n // 3)
        a.reset(task=probe_task("click-checkboxes", 1))
        out["text_observation_ms"] = _median_ms(lambda i: a.page.observe(6000, 80), n)
        out["screenshot_ms"] = _median_ms(lambda i: a.page.screenshot(), n // 3)
        out["screenshot_marks_ms"] = _median_ms(lambda i: a.page.screenshot(marks=True), n // 3)
    return out


def click_interleaved(n: int) -> dict[str, float]:
    """Arena click steps, raw ``mouse.click`` and bare ``page.click`` on the same task page, one call
    of each in turn (``page.click`` every fourth turn: it takes ten times longer)."""
    from playwright.sync_api import sync_playwright

    arena_t, sel_t, raw_t = [], [], []
    with GUIArena(max_turns=10**6) as a, sync_playwright() as p:
        ref = _ref(a.reset(task=probe_task("click-checkboxes", 1)), "input#ch0")
        browser = p.chromium.launch(executable_path=chromium_path(), args=LAUNCH_ARGS)
        page = browser.new_context(viewport={"width": 160, "height": 210}).new_page()
        page.goto(task_url("click-checkboxes"))
        page.evaluate("() => { Math.seedrandom(1); core.EPISODE_MAX_TIME = 1e9; core.startEpisodeReal(); }")
        box = page.locator("#ch0").bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        for i in range(n):
            arena_t += _times_ms(lambda _: a.step(call("click", ref=ref)), 1)
            raw_t += _times_ms(lambda _: page.mouse.click(x, y), 1)
            if i % 4 == 0:
                sel_t += _times_ms(lambda _: page.click("#ch0"), 1)
        browser.close()
    step, sel, raw = (statistics.median(t) for t in (arena_t, sel_t, raw_t))
    return {"click_step_ms": step, "bare_page_click_ms": sel, "bare_mouse_click_ms": raw,
            "ratio_vs_page_click": step / sel, "ratio_vs_mouse_click": step / raw}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args()
    load0 = os.getloadavg()[0]
    nums = {**reset_numbers(args.n), **step_numbers(args.n), **click_interleaved(args.n)}
    print(f"pool {POOL_SIZE} task types per arena; load average {load0:.1f} at start, "
          f"{os.getloadavg()[0]:.1f} at end, {os.cpu_count()} cores")
    for k, v in nums.items():
        print(f"{k:32s} {v:8.2f}")
    print(f"click step / bare page.click   {nums['ratio_vs_page_click']:.2f}")
    print(f"click step / raw mouse.click   {nums['ratio_vs_mouse_click']:.2f}")


if __name__ == "__main__":
    main()
