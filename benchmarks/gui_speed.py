"""GUI arena speed against a bare Playwright loop on the same MiniWoB page, in the same process.

Measures (medians over many calls): reset on the loaded task type and on a switch of type; a
click step and a type step, each including the text observation; the same click as a bare
Playwright ``page.click(selector)`` and as a raw ``page.mouse.click(x, y)`` (the floor: no lookup,
no observation); a screenshot observation on its own.

    python benchmarks/gui_speed.py [--n 300]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from arenas.gui.arena import GUIArena
from arenas.gui.browser import LAUNCH_ARGS, chromium_path
from arenas.gui.measure import probe_task
from arenas.gui.page import task_url


def _median_ms(fn, n: int) -> float:
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def call(name: str, **arguments) -> str:
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


def arena_numbers(n: int) -> dict[str, float]:
    out = {}
    with GUIArena(max_turns=10**6) as a:
        a.reset(task=probe_task("click-checkboxes", 0))
        out["reset_same_type_ms"] = _median_ms(lambda i: a.reset(task=probe_task("click-checkboxes", i)), n)
        types = ["click-checkboxes", "enter-text"]
        out["reset_switch_type_ms"] = _median_ms(lambda i: a.reset(task=probe_task(types[i % 2], i)), max(20, n // 10))
        obs = a.reset(task=probe_task("click-checkboxes", 1))
        ref = int(obs.messages[-1]["content"].split("input#ch0")[0].rsplit("[", 1)[1].split("]")[0])
        out["click_step_ms"] = _median_ms(lambda i: a.step(call("click", ref=ref)), n)
        obs = a.reset(task=probe_task("enter-text", 1))
        ref = int(obs.messages[-1]["content"].split("input#tt")[0].rsplit("[", 1)[1].split("]")[0])
        out["type_step_ms"] = _median_ms(lambda i: a.step(call("type", ref=ref, text="hello")), n // 3)
        out["text_observation_ms"] = _median_ms(lambda i: a.page.observe(6000, 80), n)
        out["screenshot_ms"] = _median_ms(lambda i: a.page.screenshot(), n // 3)
        out["screenshot_marks_ms"] = _median_ms(lambda i: a.page.screenshot(marks=True), n // 3)
    return out


def bare_numbers(n: int) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=LAUNCH_ARGS)
        page = browser.new_context(viewport={"width": 160, "height": 210}).new_page()
        page.goto(task_url("click-checkboxes"))
        page.evaluate("() => { Math.seedrandom(1); core.EPISODE_MAX_TIME = 1e9; core.startEpisodeReal(); }")
        out = {"bare_page_click_ms": _median_ms(lambda i: page.click("#ch0"), n)}
        box = page.locator("#ch0").bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        out["bare_mouse_click_ms"] = _median_ms(lambda i: page.mouse.click(x, y), n)
        browser.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args()
    nums = {**arena_numbers(args.n), **bare_numbers(args.n)}
    for k, v in nums.items():
        print(f"{k:24s} {v:8.2f}")
    print(f"{'ratio click step / bare page.click':40s} {nums['click_step_ms'] / nums['bare_page_click_ms']:.2f}")
    print(f"{'ratio click step / bare mouse.click':40s} {nums['click_step_ms'] / nums['bare_mouse_click_ms']:.2f}")


if __name__ == "__main__":
    main()
