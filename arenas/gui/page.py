"""One episode's page: a MiniWoB++ task loaded from the ``miniwob`` package's files, seeded and
driven with real mouse and keyboard input.

Each arena owns one browser context. Inside it a small pool of pages stays loaded, one per task type
(least recently used first out), so a reset on a type in the pool only reseeds and regenerates the
problem in place (a few milliseconds), as MiniWoB itself does between episodes; another type loads
its file into the least recently used page. The page side (``dom.js``) is installed by an init
script before the task's own scripts, and the hot calls (reset, observation, element lookup) go
as one raw DevTools ``Runtime.evaluate`` each, the cheapest round trip Playwright offers. A crashed
renderer (the pool's pages share one) ends the episode at once; the next reset opens a new context.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from arenas.gui.browser import BrowserCrashed, BrowserHost

VIEWPORT = (160, 210)
MAX_EPISODE_MS = 1_000_000_000
"""MiniWoB's 10-second episode timer is lifted: agents that think for seconds per step are the point."""
DOM_JS = (Path(__file__).parent / "dom.js").read_text()
DRAG_STEPS = 12
POOL_SIZE = 4
"""Task types kept loaded per arena (one page each); a reset on one of them needs no page load."""
RECYCLE_AFTER = 100
"""Resets after which the arena's browser context is replaced, bounding the renderer's memory."""
RELOAD_EACH_EPISODE = frozenset({"drag-items", "drag-sort-numbers"})
"""Types whose problem cannot be regenerated in place: jQuery UI's sortable widget stays bound to the
last problem's items, so the new items lack their drag handles. Found by comparing an in-place
reset with a fresh load for every included type (tests/gui/test_browser.py checks these)."""
NAVIGATED = ("__gui is not defined", "core is not defined", "WOB_DONE_GLOBAL is not defined",
             "Execution context was destroyed", "navigation", "Cannot find context")
"""Errors of an evaluation on a page that is no longer the task's."""


@cache
def miniwob_dir() -> Path:
    import miniwob

    return Path(miniwob.__file__).parent / "html" / "miniwob"


@cache
def task_url(task_type: str) -> str:
    path = miniwob_dir() / f"{task_type}.html"
    if not path.exists():
        raise ValueError(f"no MiniWoB task {task_type!r} in {miniwob_dir()}")
    return path.as_uri()


def js_call(fn: str, *args: Any) -> str:
    """A JavaScript call expression with JSON-encoded arguments (nothing from the agent is code)."""
    return f"{fn}({', '.join(json.dumps(a) for a in args)})"


class PageGone(RuntimeError):
    """The page left the task (navigation); the episode cannot continue."""


class ScriptError(RuntimeError):
    """A page-side evaluation threw."""


@dataclass(eq=False)
class Tab:
    """One page of the pool, the DevTools session that evaluates in it, and what it holds."""

    page: Any
    cdp: Any
    task_type: str | None = None
    mouse_moved: bool = False

    async def js(self, expression: str, wait: bool = False) -> Any:
        """Evaluates ``expression`` in the page's main world and returns its JSON value."""
        out = await self.cdp.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                       "awaitPromise": wait})
        if "exceptionDetails" in out:
            d = out["exceptionDetails"]
            raise ScriptError((d.get("exception") or {}).get("description") or d.get("text") or "script error")
        return out["result"].get("value")


class TaskPage:
    """A browser context and its pool of task pages, owned by one arena."""

    def __init__(self, host: BrowserHost | None = None, viewport: tuple[int, int] = VIEWPORT,
                 pool_size: int = POOL_SIZE):
        if pool_size < 1:
            raise ValueError(f"pool_size must be at least 1, got {pool_size}")
        self.host = host or BrowserHost.shared()
        self.viewport = viewport
        self.pool_size = pool_size
        self.ctx: Any = None
        self.tabs: OrderedDict[str, Tab] = OrderedDict()
        self.tab: Tab | None = None
        self.generation = -1
        self.resets = 0
        self.loads = 0
        self.crashed = False
        self._crash: asyncio.Future[None] | None = None
        self._opening = False

    @property
    def page(self) -> Any:
        """The Playwright page of the current episode."""
        return self.tab.page if self.tab is not None else None

    # ---- plumbing ---------------------------------------------------------------------------
    def call(self, coro_fn: Any, *args: Any) -> Any:
        """Runs ``coro_fn(*args)`` on the browser loop; a dead browser is restarted and raises."""
        try:
            if self.crashed:  # a renderer that died: its pages and sessions go with their context
                self.close()
                raise BrowserCrashed("the page's renderer crashed; the next episode starts in a new browser context")
            if self.ctx is None or self.generation != self.host.generation:
                self._open()
            if self.tab is None and coro_fn != self._reset:
                raise RuntimeError("no task page: reset to start an episode")
            return self.host.run(self._unless_crashed(coro_fn(*args)))
        except BrowserCrashed:
            raise
        except Exception as e:
            if self.host.restart_if_dead(self.generation) or (self.page is not None and self.page.is_closed()):
                self._forget()
                raise BrowserCrashed(f"the browser died ({type(e).__name__}: {e}); it has been restarted") from e
            if self.crashed:
                self.close()
                raise BrowserCrashed(f"the page's renderer crashed ({type(e).__name__}: {e}); the next "
                                     "episode starts in a new browser context") from e
            raise

    def _open(self) -> None:
        self._forget()
        self.ctx, self.generation = self.host.new_context(*self.viewport)

        async def setup() -> None:
            await self.ctx.add_init_script(DOM_JS)
            self.ctx.on("page", lambda p: None if self._opening else asyncio.ensure_future(_close_popup(p)))

        self.host.run(setup())

    async def _new_tab(self) -> Tab:
        self._opening = True
        try:
            page = await self.ctx.new_page()
        finally:
            self._opening = False
        page.set_default_timeout(2000)  # an input the page refuses fails fast, as feedback
        page.set_default_navigation_timeout(30000)
        tab = Tab(page, await self.ctx.new_cdp_session(page))
        page.on("crash", lambda _: self._on_crash())
        return tab

    async def _unless_crashed(self, coro: Any) -> Any:
        """Awaits ``coro``, or raises as soon as a renderer of the context crashes (calls on a
        crashed page would otherwise hang until their timeout)."""
        if self._crash is None:
            self._crash = asyncio.get_running_loop().create_future()
        task = asyncio.ensure_future(coro)
        await asyncio.wait((task, self._crash), return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            return task.result()
        task.cancel()
        raise RuntimeError("the renderer crashed during the call")

    def _on_crash(self) -> None:
        self.crashed = True
        if self._crash is not None and not self._crash.done():
            self._crash.set_result(None)

    def _forget(self) -> None:
        self.resets = 0
        self.crashed = False
        self._crash = None
        self.ctx = self.tab = None
        self.tabs = OrderedDict()

    def close(self) -> None:
        ctx, gen = self.ctx, self.generation
        self._forget()
        if ctx is not None and gen == self.host.generation and self.host.connected():
            try:
                self.host.run(ctx.close(), timeout=10)
            except Exception:
                pass

    # ---- episode ----------------------------------------------------------------------------
    def reset(self, task_type: str, seed: int, max_chars: int, text_max: int, fresh: bool = False) -> dict[str, Any]:
        """Starts (type, seed); ``fresh`` reloads the page even when the type is loaded (a few task
        pages keep widget state, e.g. an open submenu, from one episode to the next)."""
        url = task_url(task_type)  # an unknown type fails here, before any browser work
        if self.crashed or (self.resets >= RECYCLE_AFTER and self.ctx is not None):
            self.close()  # a new context: the renderer's memory starts over
        return self.call(self._reset, task_type, url, seed, max_chars, text_max, fresh)

    async def _take_tab(self, task_type: str) -> Tab:
        """The pool's page for ``task_type``: its own, else a new one, else the least recently used."""
        tab = self.tabs.pop(task_type, None)
        if tab is None or tab.page.is_closed():
            if len(self.tabs) < self.pool_size:
                tab = await self._new_tab()
            else:
                _, tab = self.tabs.popitem(last=False)
        self.tabs[task_type] = tab
        return tab

    async def _reset(self, task_type: str, url: str, seed: int, max_chars: int, text_max: int,
                     fresh: bool) -> dict[str, Any]:
        self.resets += 1
        tab = self.tab = await self._take_tab(task_type)
        load = (fresh or task_type in RELOAD_EACH_EPISODE or tab.task_type != task_type
                or tab.page.url.split("#")[0] != url)
        while True:
            if load:
                await self._load(tab, task_type, url)
            if tab.mouse_moved:  # no hover state carried over from the last episode
                await tab.page.mouse.move(0, 0)
                tab.mouse_moved = False
            try:
                obs = await tab.js(js_call("__gui.start", seed, MAX_EPISODE_MS, max_chars, text_max, load), wait=True)
                break
            except ScriptError as e:
                if load or not any(s in str(e) for s in NAVIGATED):
                    raise
                load = True  # the page left the task after its URL was last read (a late navigation)
        for _ in range(100):  # a task still preparing its problem (WOB_TASK_READY false): up to 2 s
            if obs is not None:
                return obs
            await asyncio.sleep(0.02)
            if await tab.js("WOB_TASK_READY !== false"):
                break
        return await self._observe(max_chars, text_max)

    async def _load(self, tab: Tab, task_type: str, url: str) -> None:
        tab.task_type = None
        for attempt in range(3):
            try:
                await tab.page.goto(url, wait_until="load")
                break
            except Exception as e:  # a navigation the last episode started is still landing
                if "interrupted by another navigation" not in str(e) or attempt == 2:
                    raise
                await tab.page.wait_for_load_state("load")
        tab.task_type = task_type
        self.loads += 1

    async def _observe(self, max_chars: int, text_max: int) -> dict[str, Any]:
        tab = self.tab
        if tab is not None and tab.task_type is not None and tab.page.url.split("#")[0] == task_url(tab.task_type):
            try:
                return await tab.js(js_call("__gui.observe", max_chars, text_max))
            except Exception as e:
                if not any(s in str(e) for s in NAVIGATED):
                    raise
        if tab is not None:
            tab.task_type = None  # the next reset loads the task again
        raise PageGone(f"the page navigated away from the task (to {self.page.url if self.page else None})")

    def observe(self, max_chars: int, text_max: int) -> dict[str, Any]:
        return self.call(self._observe, max_chars, text_max)

    def status(self) -> dict[str, Any]:
        async def st() -> dict[str, Any]:
            return await self.tab.js("__gui.status()")

        return self.call(st)

    def evaluate(self, script: str, arg: Any = None) -> Any:
        async def ev() -> Any:
            return await self.page.evaluate(script, arg)

        return self.call(ev)

    # ---- input ------------------------------------------------------------------------------
    def act(self, op: str, args: dict[str, Any], max_chars: int, text_max: int) -> tuple[dict[str, Any], dict]:
        """Performs one input operation, then observes; returns (result, observation)."""
        return self.call(self._act, op, args, max_chars, text_max)

    async def _act(self, op: str, args: dict[str, Any], max_chars: int, text_max: int) -> tuple[dict, dict]:
        if op in ("click", "click_xy", "type", "hover", "drag"):
            self.tab.mouse_moved = True
        try:
            result = await getattr(self, "_op_" + op)(**args)
        except Exception as e:  # the page refused the input (a disabled select, a timeout): feedback
            if self.page.is_closed() or not self.host.connected() or any(s in str(e) for s in NAVIGATED):
                raise
            result = {"error": f"the browser could not do it: {str(e).splitlines()[0][:200]}"}
        if result.get("error"):
            return result, {}
        return result, await self._observe(max_chars, text_max)

    async def _point(self, ref: int, scroll: bool = True) -> dict[str, Any]:
        return await self.tab.js(js_call("__gui.point", ref, scroll))

    async def _op_click(self, ref: int) -> dict[str, Any]:
        p = await self._point(ref)
        if "error" not in p:
            await self.page.mouse.click(p["x"], p["y"])
        return p

    async def _op_hover(self, ref: int) -> dict[str, Any]:
        p = await self._point(ref)
        if "error" not in p:
            await self.page.mouse.move(p["x"], p["y"])
        return p

    async def _op_wait(self, ms: int) -> dict[str, Any]:
        await asyncio.sleep(ms / 1000)
        return {}

    async def _op_click_xy(self, x: float, y: float) -> dict[str, Any]:
        await self.page.mouse.click(x, y)
        return {"x": x, "y": y}

    async def _op_type(self, ref: int, text: str) -> dict[str, Any]:
        p = await self._point(ref)
        if "error" in p:
            return p
        if not p["focused"]:  # typing into the focused field keeps its caret where it is
            await self.page.mouse.click(p["x"], p["y"])
        await self.page.keyboard.type(text)
        return p

    async def _op_press(self, key: str) -> dict[str, Any]:
        try:
            await self.page.keyboard.press(key)
        except Exception as e:
            if "Unknown key" in str(e):
                return {"error": f"unknown key {key!r} (use names like Enter, Tab, ArrowDown, Control+A)"}
            raise
        return {}

    async def _op_scroll(self, ref: int | None, dy: float) -> dict[str, Any]:
        return await self.tab.js(js_call("__gui.scrollBy", ref, dy))

    async def _op_select(self, ref: int, option: str) -> dict[str, Any]:
        found = await self.page.evaluate(
            """([r, o]) => { const el = __gui.byRef(r);
                 if (!el) return {error: 'no element with ref ' + r + ' on the page'};
                 if (el.tagName !== 'SELECT') return {error: 'element [' + r + '] is not a select box'};
                 const opt = Array.from(el.options).find(x => x.text.trim() === o.trim() || x.value === o);
                 if (!opt) return {error: 'no option ' + JSON.stringify(o) + '; options: '
                   + Array.from(el.options).map(x => JSON.stringify(x.text)).join(', ')};
                 const values = el.multiple ? Array.from(el.selectedOptions).map(x => x.value) : [];
                 return {values: values.includes(opt.value) ? values : values.concat([opt.value])}; }""",
            [ref, option])
        if "error" not in found:
            await self.page.locator(f'[data-gui-ref="{int(ref)}"]').select_option(value=found["values"])
        return found

    async def _op_drag(self, ref: int, to_ref: int, dx: float = 0.0, dy: float = 0.0) -> dict[str, Any]:
        a = await self._point(ref)
        b = await self._point(to_ref, False)
        for p in (a, b):
            if "error" in p:
                return p
        mouse = self.page.mouse
        await mouse.move(a["x"], a["y"])
        await mouse.down()
        await mouse.move(a["x"] + 2, a["y"] + 2)  # past the drag threshold of widget libraries
        await mouse.move(b["x"] + dx, b["y"] + dy, steps=DRAG_STEPS)
        await mouse.move(b["x"] + dx, b["y"] + dy)  # a last event at rest over the target
        await mouse.up()
        return {"from": a, "to": b}

    def preview(self, x: float | None, y: float | None, ref: int | None) -> dict[str, Any]:
        async def pv() -> dict[str, Any]:
            return await self.tab.js(js_call("__gui.preview", x, y, ref))

        return self.call(pv)

    def screenshot(self, scale: float = 1.0, marks: bool = False) -> bytes:
        async def shot() -> bytes:
            if marks:
                await self.page.evaluate(MARKS_JS, True)
            try:
                png = await self.page.screenshot(type="png", scale="css",
                                                 clip={"x": 0, "y": 0, "width": self.viewport[0],
                                                       "height": self.viewport[1]})
            finally:
                if marks:
                    await self.page.evaluate(MARKS_JS, False)
            return png

        png = self.call(shot)
        return _rescale(png, scale) if scale != 1.0 else png


MARKS_JS = """on => {
  document.querySelectorAll('.__gui_mark').forEach(m => m.remove());
  if (!on) return;
  for (const el of document.querySelectorAll('[data-gui-ref]')) {
    const b = el.getBoundingClientRect();
    if (b.width === 0 || b.height === 0 || b.left > innerWidth || b.top > innerHeight) continue;
    const m = document.createElement('div');
    m.className = '__gui_mark';
    m.textContent = el.dataset.guiRef;
    m.style.cssText = 'position:fixed;z-index:99999;pointer-events:none;font:bold 8px monospace;'
      + 'background:rgba(255,0,0,.75);color:#fff;padding:0 1px;left:' + b.left + 'px;top:' + b.top + 'px';
    document.body.appendChild(m);
  }
}"""


async def _close_popup(page: Any) -> None:
    """Tasks never open windows; a link that tries to is closed at once."""
    try:
        await page.close()
    except Exception:
        pass


def _rescale(png: bytes, scale: float) -> bytes:
    import io

    from PIL import Image

    img = Image.open(io.BytesIO(png))
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    out = io.BytesIO()
    img.resize(size, Image.LANCZOS).save(out, format="PNG")
    return out.getvalue()
