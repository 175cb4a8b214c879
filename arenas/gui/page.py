"""One episode's page: a MiniWoB++ task loaded from the ``miniwob`` package's files, seeded and
driven with real mouse and keyboard input.

The browser context is made once per arena and reused across resets; a reset on the task type
already loaded only reseeds and regenerates the problem in place (a few milliseconds), another
type loads its file. Every method makes one or two browser round trips.
"""

from __future__ import annotations

import asyncio
from functools import cache
from pathlib import Path
from typing import Any

from arenas.gui.browser import BrowserCrashed, BrowserHost

VIEWPORT = (160, 210)
MAX_EPISODE_MS = 1_000_000_000
"""MiniWoB's 10-second episode timer is lifted: agents that think for seconds per step are the point."""
DOM_JS = (Path(__file__).parent / "dom.js").read_text()
DRAG_STEPS = 12
RECYCLE_AFTER = 100
"""Resets after which the arena's browser context is replaced, bounding the renderer's memory."""
NAVIGATED = ("__gui is not defined", "Execution context was destroyed", "navigation", "Cannot find context")
"""Errors of an evaluation on a page that is no longer the task's."""


@cache
def miniwob_dir() -> Path:
    import miniwob

    return Path(miniwob.__file__).parent / "html" / "miniwob"


def task_url(task_type: str) -> str:
    path = miniwob_dir() / f"{task_type}.html"
    if not path.exists():
        raise ValueError(f"no MiniWoB task {task_type!r} in {miniwob_dir()}")
    return path.as_uri()


class PageGone(RuntimeError):
    """The page left the task (navigation); the episode cannot continue."""


class TaskPage:
    """A browser context and page owned by one arena."""

    def __init__(self, host: BrowserHost | None = None, viewport: tuple[int, int] = VIEWPORT):
        self.host = host or BrowserHost.shared()
        self.viewport = viewport
        self.ctx: Any = None
        self.page: Any = None
        self.generation = -1
        self.loaded: str | None = None
        self.mouse_moved = False
        self.resets = 0

    # ---- plumbing ---------------------------------------------------------------------------
    def call(self, coro_fn: Any, *args: Any) -> Any:
        """Runs ``coro_fn(*args)`` on the browser loop; a dead browser is restarted and raises."""
        try:
            if self.page is None or self.generation != self.host.generation:
                self._open()
            return self.host.run(coro_fn(*args))
        except BrowserCrashed:
            raise
        except Exception as e:
            if self.host.restart_if_dead(self.generation) or self.page is None or self.page.is_closed():
                self._forget()
                raise BrowserCrashed(f"the browser died ({type(e).__name__}: {e}); it has been restarted") from e
            raise

    def _open(self) -> None:
        self._forget()
        self.ctx, self.generation = self.host.new_context(*self.viewport)

        async def page() -> Any:
            self.page = await self.ctx.new_page()
            self.page.set_default_timeout(2000)  # an input the page refuses fails fast, as feedback
            self.page.set_default_navigation_timeout(30000)
            self.ctx.on("page", lambda p: None if p is self.page else asyncio.ensure_future(_close_popup(p)))

        self.host.run(page())

    def _forget(self) -> None:
        self.resets = 0
        self.ctx = self.page = None
        self.loaded = None
        self.mouse_moved = False

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
        if self.resets >= RECYCLE_AFTER and self.page is not None:
            self.close()  # a new context: the renderer's memory starts over
        return self.call(self._reset, task_type, seed, max_chars, text_max, fresh)

    async def _reset(self, task_type: str, seed: int, max_chars: int, text_max: int, fresh: bool) -> dict[str, Any]:
        self.resets += 1
        url = task_url(task_type)
        if fresh or self.loaded != task_type or self.page.url.split("#")[0] != url:
            for attempt in range(3):
                try:
                    await self.page.goto(url, wait_until="load")
                    break
                except Exception as e:  # a navigation the last episode started is still landing
                    if "interrupted by another navigation" not in str(e) or attempt == 2:
                        raise
                    await self.page.wait_for_load_state("load")
            await self.page.evaluate(DOM_JS)
            await self.page.evaluate(PRELOAD_JS)
            self.loaded = task_type
        if self.mouse_moved:  # no hover state carried over from the last episode
            await self.page.mouse.move(0, 0)
            self.mouse_moved = False
        ready = await self.page.evaluate("([s, m]) => __gui.reset(s, m)", [seed, MAX_EPISODE_MS])
        for _ in range(100):
            if ready:
                break
            await asyncio.sleep(0.02)
            ready = await self.page.evaluate("WOB_TASK_READY !== false")
        return await self._observe(max_chars, text_max)

    async def _observe(self, max_chars: int, text_max: int) -> dict[str, Any]:
        gone = self.page.url.split("#")[0] != task_url(self.loaded or "")
        if not gone:
            try:
                return await self.page.evaluate("([m, t]) => __gui.observe(m, t)", [max_chars, text_max])
            except Exception as e:
                if not any(s in str(e) for s in NAVIGATED):
                    raise
        self.loaded = None  # the next reset loads the task again
        raise PageGone(f"the page navigated away from the task (to {self.page.url})")

    def observe(self, max_chars: int, text_max: int) -> dict[str, Any]:
        return self.call(self._observe, max_chars, text_max)

    def status(self) -> dict[str, Any]:
        async def st() -> dict[str, Any]:
            return await self.page.evaluate("__gui.status()")

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
        self.mouse_moved = self.mouse_moved or op in ("click", "click_xy", "type", "hover", "drag")
        try:
            result = await getattr(self, "_op_" + op)(**args)
        except Exception as e:  # the page refused the input (a disabled select, a timeout): feedback
            if self.page.is_closed() or not self.host.connected() or any(s in str(e) for s in NAVIGATED):
                raise
            result = {"error": f"the browser could not do it: {str(e).splitlines()[0][:200]}"}
        if result.get("error"):
            return result, {}
        return result, await self._observe(max_chars, text_max)

    async def _point(self, ref: int) -> dict[str, Any]:
        return await self.page.evaluate("r => __gui.point(r, true)", ref)

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
        return await self.page.evaluate("([r, dy]) => __gui.scrollBy(r, dy)", [ref, dy])

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
        b = await self.page.evaluate("r => __gui.point(r, false)", to_ref)
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
            return await self.page.evaluate("([x, y, r]) => __gui.preview(x, y, r)", [x, y, ref])

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


PRELOAD_JS = """async () => {
  // Decode every image the task's CSS refers to before the first episode, so icons have their size
  // (and the text view its elements) from the start, not only once the cache is warm.
  const urls = new Set();
  for (const sheet of document.styleSheets) {
    let rules; try { rules = sheet.cssRules; } catch (e) { continue; }
    for (const rule of rules) for (const m of (rule.cssText || '').matchAll(/url\\(["']?([^"')]+)["']?\\)/g)) {
      urls.add(new URL(m[1], sheet.href || location.href).href);
    }
  }
  await Promise.all(Array.from(urls, (u) => new Promise((done) => {
    const img = new Image(); img.onload = img.onerror = () => done(); img.src = u; })));
  return urls.size;
}"""

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
