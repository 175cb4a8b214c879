// The page side of the GUI arena: episode reset, the text view with stable refs, element geometry
// and the pre-operative preview. Installed as window.__gui in every document before the page's own
// scripts run (an init script of the browser context).
(() => {
  if (window.__gui) return;
  const SKIP_IDS = new Set(['reward-display', 'sync-task-cover', 'click-canvas', 'query']);
  const PASS_IDS = new Set(['wrap', 'area']);  // containers listed through their children
  const SHOW_TAGS = new Set(['A', 'BUTTON', 'INPUT', 'SELECT', 'TEXTAREA', 'LABEL', 'IMG', 'CANVAS', 'LI',
    'TD', 'TH', 'H1', 'H2', 'H3', 'H4', 'P', 'svg', 'circle', 'rect', 'polygon', 'ellipse', 'path', 'line',
    'text', 'OPTION', 'TABLE']);
  const clip = (s, n) => (s.length > n ? s.slice(0, n - 1) + '…' : s);
  const quote = (s) => JSON.stringify(s);

  function ref(el) {
    if (!el.dataset) return null;
    if (!el.dataset.guiRef) el.dataset.guiRef = String(window.__guiNext++);
    return +el.dataset.guiRef;
  }
  function byRef(r) { return document.querySelector('[data-gui-ref="' + (+r) + '"]'); }
  const NOISE = /^(ui-corner|ui-widget|ui-helper|ui-front|ui-draggable|ui-resizable|ui-state-default|ui-priority)/;
  function classes(el) {
    return (el.getAttribute('class') || '').split(/\s+/).filter((c) => c && !NOISE.test(c));
  }
  function ownText(el) {
    let t = '';
    for (const c of el.childNodes) if (c.nodeType === 3) t += ' ' + c.data;
    return t.replace(/\s+/g, ' ').trim();
  }
  function states(el) {
    const out = [];
    if (el.type === 'checkbox' || el.type === 'radio') out.push(el.checked ? 'checked' : 'unchecked');
    if (el.disabled) out.push('disabled');
    if (document.activeElement === el && el !== document.body) out.push('focused');
    if (el.readOnly) out.push('readonly');
    return out;
  }
  function describe(el, textMax) {
    const tag = el instanceof SVGElement ? el.tagName : el.tagName.toLowerCase();
    let head = tag;
    if (el.id) head += '#' + el.id;
    const cls = classes(el).slice(0, 3);
    if (cls.length) head += '.' + cls.join('.');
    const parts = [head];
    if (el.tagName === 'INPUT') parts.push('type=' + el.type);
    const text = ownText(el);
    if (text) parts.push(quote(clip(text, textMax)));
    if ((el.tagName === 'INPUT' && el.type !== 'checkbox' && el.type !== 'radio') || el.tagName === 'TEXTAREA') {
      parts.push('value=' + quote(clip(el.value, textMax)));
      if (el.placeholder) parts.push('placeholder=' + quote(el.placeholder));
    }
    if (el.tagName === 'SELECT') {
      parts.push('options=[' + Array.from(el.options).map((o) => quote(o.text) + (o.selected ? '*' : '')).join(', ') + ']');
    }
    if (el instanceof SVGElement) {
      for (const a of ['fill', 'stroke', 'data-shape', 'r']) if (el.getAttribute(a)) parts.push(a + '=' + el.getAttribute(a));
    } else if (el.style && el.style.backgroundColor) {
      parts.push('bg=' + el.style.backgroundColor);
    }
    if (el.getAttribute('title')) parts.push('title=' + quote(el.getAttribute('title')));
    return parts.concat(states(el)).join(' ');
  }
  function shown(el) {
    if (el.tagName === 'OPTION' || el.tagName === 'SCRIPT' || el.tagName === 'STYLE') return false;
    if (el.checkVisibility && !el.checkVisibility()) return false;
    return true;
  }
  function worth(el) {
    if (SHOW_TAGS.has(el.tagName) || el.id || ownText(el)) return true;
    if (classes(el).length || el.getAttribute('onclick') || el.getAttribute('tabindex')) return true;
    return !!(el.style && el.style.backgroundColor);
  }
  function observe(maxChars, textMax) {
    const lines = [];
    let size = 0, omitted = 0;
    function walk(el, depth) {
      if (SKIP_IDS.has(el.id) || !shown(el)) return;
      const r = el.getBoundingClientRect();
      const hidden = (el.checkVisibility && !el.checkVisibility({visibilityProperty: true}))
        || r.width === 0 || r.height === 0;
      let d = depth;
      if (!hidden && worth(el) && !PASS_IDS.has(el.id)) {
        const line = '  '.repeat(depth) + '[' + ref(el) + '] ' + describe(el, textMax);
        if (size + line.length + 1 > maxChars) { omitted++; } else { lines.push(line); size += line.length + 1; }
        d = depth + 1;
      }
      if (el.tagName === 'SELECT') return;
      for (const c of el.children) walk(c, d);
    }
    for (const c of document.body.children) walk(c, 0);
    if (omitted) lines.push('… (' + omitted + ' more elements not shown)');
    return {utterance: core.getUtterance(), page: lines.join('\n'), status: status(), url: location.href};
  }
  function status() {
    return {done: WOB_DONE_GLOBAL, raw_reward: WOB_RAW_REWARD_GLOBAL, reward: WOB_REWARD_GLOBAL,
            reason: WOB_REWARD_REASON == null ? null : String(WOB_REWARD_REASON)};
  }
  // Scrolls the element into view when needed and returns its centre in viewport pixels.
  function point(r, scroll) {
    const el = byRef(r);
    if (!el || !el.isConnected) return {error: 'no element with ref ' + r + ' on the page'};
    if (scroll) el.scrollIntoView({block: 'nearest', inline: 'nearest'});
    const b = el.getBoundingClientRect();
    if (b.width === 0 && b.height === 0) return {error: 'element [' + r + '] is not visible'};
    const text = ownText(el);
    const name = '[' + r + '] ' + describe(el, 40).split(' ')[0] + (text ? ' ' + quote(clip(text, 40)) : '');
    return {x: b.left + b.width / 2, y: b.top + b.height / 2, tag: el.tagName, desc: name,
            focused: document.activeElement === el};
  }
  function preview(x, y, r) {
    let target = null;
    if (r !== null && r !== undefined) {
      const p = point(r, false);
      if (p.error) return {error: p.error};
      x = p.x; y = p.y; target = byRef(r);
    }
    const hit = document.elementFromPoint(x, y);
    const out = {x: Math.round(x), y: Math.round(y), inside_viewport: x >= 0 && y >= 0 && x < innerWidth && y < innerHeight};
    if (!hit) return Object.assign(out, {receiver: null});
    out.receiver_ref = ref(hit);
    out.receiver = describe(hit, 60);
    out.receiver_disabled = !!hit.disabled;
    if (target) out.occluded = !(target === hit || target.contains(hit));
    if (hit === document.getElementById('sync-task-cover')) out.note = 'the episode is over (start cover)';
    return out;
  }
  function scrollBy(r, dy) {
    let el = r === null || r === undefined ? document.scrollingElement : byRef(r);
    if (!el) return {error: 'no element with ref ' + r + ' on the page'};
    let s = el;
    while (s && s !== document.body && s.scrollHeight <= s.clientHeight) s = s.parentElement;
    if (!s || s === document.body) s = document.scrollingElement;
    const before = s.scrollTop;
    s.scrollTop = before + dy;
    s.dispatchEvent(new Event('scroll'));
    return {moved: s.scrollTop - before, top: s.scrollTop, max: s.scrollHeight - s.clientHeight};
  }
  function reset(seed, maxTime) {
    for (const el of document.querySelectorAll('[data-gui-ref]')) el.removeAttribute('data-gui-ref');
    window.__guiNext = 1;
    window.__om = {};
    core.EPISODE_MAX_TIME = maxTime;
    window.scrollTo(0, 0);
    if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
    Math.seedrandom(seed);
    core.startEpisodeReal();
    return WOB_TASK_READY !== false;
  }
  // Decodes every image the task's CSS refers to before the first episode on a freshly loaded page,
  // so icons have their size (and the text view its elements) from the start.
  async function preloadImages() {
    const urls = new Set();
    for (const sheet of document.styleSheets) {
      let rules; try { rules = sheet.cssRules; } catch (e) { continue; }
      for (const rule of rules) for (const m of (rule.cssText || '').matchAll(/url\(["']?([^"')]+)["']?\)/g)) {
        urls.add(new URL(m[1], sheet.href || location.href).href);
      }
    }
    await Promise.all(Array.from(urls, (u) => new Promise((done) => {
      const img = new Image(); img.onload = img.onerror = () => done(); img.src = u; })));
  }
  // A reset in one round trip: reseed, regenerate, observe (null while the task is not ready).
  async function start(seed, maxTime, maxChars, textMax, preload) {
    if (preload) await preloadImages();
    return reset(seed, maxTime) ? observe(maxChars, textMax) : null;
  }
  window.__guiNext = 1;
  window.__gui = {observe, status, point, preview, scrollBy, reset, start, ref, byRef, describe};
})();
