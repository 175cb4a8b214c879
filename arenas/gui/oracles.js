// Scripted oracles: for each MiniWoB task type, the next action that solves it, read from the DOM
// and the instruction only (never from the task's hidden variables). Stateless where the page
// shows its own progress; window.__om (cleared on reset) remembers the rest.
(() => {
  if (window.__oracles) return;
  const $$ = (s, root) => Array.from((root || document).querySelectorAll(s));
  const $1 = (s, root) => (root || document).querySelector(s);
  const text = (el) => (el.textContent || '').replace(/\s+/g, ' ').trim();
  const visible = (el) => !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const R = (el) => __gui.ref(el);
  // Clicks the element where it is not covered: its centre, else the first uncovered point of a grid.
  const click = (el) => {
    const b = el.getBoundingClientRect();
    const hits = (x, y) => { const h = document.elementFromPoint(x, y); return h && (h === el || el.contains(h)); };
    if (hits(b.left + b.width / 2, b.top + b.height / 2) || b.width === 0) return {op: 'click', ref: R(el)};
    for (let fy = 0.1; fy < 1; fy += 0.2) for (let fx = 0.1; fx < 1; fx += 0.2) {
      const x = b.left + fx * b.width, y = b.top + fy * b.height;
      if (x >= 0 && y >= 0 && x < innerWidth && y < innerHeight && hits(x, y)) {
        return {op: 'click_xy', x: Math.round(x * 10) / 10, y: Math.round(y * 10) / 10};
      }
    }
    return {op: 'click', ref: R(el)};
  };
  const type = (el, t) => ({op: 'type', ref: R(el), text: t});
  const select = (el, o) => ({op: 'select', ref: R(el), option: o});
  const press = (k) => ({op: 'press', key: k});
  const drag = (a, b) => ({op: 'drag', ref: R(a), to_ref: R(b)});
  const done = () => ({op: 'done'});
  const wait = (ms) => ({op: 'wait', ms: ms});
  const fail = (why) => ({op: 'fail', why: why});
  const utt = () => core.getUtterance();
  const quoted = () => { const m = utt().match(/"([^"]*)"/g) || []; return m.map((s) => s.slice(1, -1)); };
  const bolds = () => $$('#query .bold, #query b, #query span.bold').map(text);
  const mem = () => (window.__om = window.__om || {});
  const byText = (sel, t, root) => $$(sel, root).find((e) => text(e) === t);
  const submit = () => $1('#subbtn') || byText('button', 'Submit');
  // Fill an input with exactly t: type into an empty one; clear a wrong value first (select all, delete).
  function fill(el, t) {
    if (el.value === t) return null;
    if (el.value === '') return type(el, t);
    if (document.activeElement !== el) return click(el);
    const m = mem();
    if (m.selected !== R(el)) { m.selected = R(el); return press('Control+A'); }
    m.selected = null;
    return press('Backspace');
  }
  function firstNeeded(steps) {
    for (const s of steps) { const a = s(); if (a) return a; }
    return null;
  }

  const O = {};
  O['click-button'] = () => click(byText('#area button', quoted()[0]));
  O['unicode-test'] = O['click-button'];
  O['click-link'] = () => click(byText('.alink', quoted()[0]));
  O['click-dialog'] = () => click($1('.ui-dialog-titlebar-close'));
  O['click-dialog-2'] = () => {
    const want = quoted()[0];
    return click(want === 'x' ? $1('.ui-dialog-titlebar-close') : byText('.ui-dialog-buttonpane button', want));
  };
  O['click-test'] = () => click($1('#subbtn'));
  O['click-test-2'] = () => click(byText('button', utt().match(/button (\w+)/)[1]));
  O['click-test-transfer'] = O['click-test-2'];
  O['click-button-sequence'] = () => {
    const m = mem();
    if (!m.one) { m.one = true; return click(byText('button', 'ONE')); }
    return click(byText('button', 'TWO'));
  };
  O['click-option'] = () => {
    const want = utt().match(/^Select (.*) and click Submit\.$/)[1];
    const label = $$('#boxes label').find((l) => text(l) === want);
    const input = $1('input', label);
    return input.checked ? click(submit()) : click(input);
  };
  function checkboxes(words) {
    for (const label of $$('#boxes label, #area label')) {
      const input = $1('input[type=checkbox]', label);
      if (!input) continue;
      if (words.has(text(label)) !== input.checked) return click(input);
    }
    return click(submit());
  }
  const checkWords = () => {
    const m = utt().match(/^Select (.*) and click Submit\.$/)[1];
    return new Set(m === 'nothing' ? [] : m.split(/, /).map((s) => s.trim()));
  };
  O['click-checkboxes'] = () => checkboxes(checkWords());
  O['click-checkboxes-large'] = O['click-checkboxes'];
  O['click-checkboxes-transfer'] = O['click-checkboxes'];
  O['click-tab'] = () => click(byText('#area ul a', utt().match(/(Tab #\d)/)[1]));
  O['click-tab-2'] = () => {
    const want = quoted()[0];
    const link = $$('.alink').find((e) => text(e) === want && visible(e));
    if (link) return click(link);
    const m = mem();
    m.tried = m.tried || 0;
    const tabs = $$('#area ul a');
    return click(tabs[(m.tried++) % tabs.length]);
  };
  for (const v of ['easy', 'medium', 'hard']) O['click-tab-2-' + v] = O['click-tab-2'];
  O['click-collapsible-nodelay'] = () => {
    const body = $1('#area .ui-accordion-content, #area h3 + div');
    return body && visible(body) ? click(submit()) : click($1('#area h3'));
  };
  O['click-collapsible-2-nodelay'] = () => {
    const want = quoted()[0];
    const link = $$('.alink').find((e) => text(e) === want && visible(e));
    if (link) return click(link);
    const heads = $$('#area h3');
    const withLink = heads.find((h) => h.nextElementSibling
      && $$('.alink', h.nextElementSibling).some((e) => text(e) === want));
    return click(withLink);
  };
  O['focus-text'] = () => click($1('#tt'));
  O['focus-text-2'] = () => {
    const pos = {'1st': 0, '2nd': 1, '3rd': 2}[utt().match(/the (\w+) input/)[1]];
    return click($$('#area input')[pos]);
  };
  O['enter-text'] = () => fill($1('#tt'), bolds()[0]) || click(submit());
  O['enter-text-dynamic'] = O['enter-text'];
  O['enter-text-2'] = () => {
    const t = bolds()[0];
    const want = /upper case/.test(utt()) ? t.toUpperCase() : t.toLowerCase();
    return fill($1('#tt'), want) || click(submit());
  };
  O['enter-password'] = () => {
    const pw = bolds()[0];
    return firstNeeded([() => fill($1('#password'), pw), () => fill($1('#verify'), pw)]) || click(submit());
  };
  O['login-user'] = () => {
    const [user, pw] = quoted();
    const popup = $1('#popup');
    if (popup) return click($1('#popup-cancel'));
    return firstNeeded([() => fill($1('#username'), user), () => fill($1('#password'), pw)]) || click(submit());
  };
  O['login-user-popup'] = O['login-user'];
  O['choose-list'] = () => {
    const want = utt().match(/^Select (.*) from the list and click Submit\.$/)[1];
    const sel = $1('#area select');
    const opt = Array.from(sel.options).find((o) => o.selected);
    return opt && text(opt) === want ? click($1('#area button')) : select(sel, want);
  };
  O['click-widget'] = () => click($$('#area .widget').find((w) => $1('[data-type]', w).getAttribute('data-type') === quoted()[0]));
  O['click-color'] = () => {
    const color = utt().match(/Click on the (.*) colored box/)[1];
    return click($$('#area .color').find((d) => d.getAttribute('data-color') === color
      || d.style.backgroundColor === color));
  };
  const ORD = (s) => parseInt(s, 10) - 1;
  O['find-word'] = () => {
    const n = ORD(utt().match(/Find the (\d+)\w\w word/)[1]);
    const words = text($1('#area p')).split(/\s+/).map((w) => w.replace(/[^a-zA-Z]/g, '')).filter((w) => w);
    return fill($1('#answer-input'), words[n]) || click(submit());
  };
  O['read-table'] = () => {
    const key = bolds()[0];
    const row = $$('#tab tr').find((tr) => text(tr.cells[0]) === key);
    return fill($1('#tt'), text(row.cells[1])) || click(submit());
  };
  O['enter-date'] = () => {
    const q = bolds()[0];
    const [mm, dd, yyyy] = q.split('/');
    const el = $1('#tt');
    if (el.value === `${yyyy}-${mm}-${dd}`) return click(submit());
    if (document.activeElement !== el) {  // focus the month field: the left end of the input
      const b = el.getBoundingClientRect();
      return {op: 'click_xy', x: b.left + 6, y: b.top + b.height / 2};
    }
    return type(el, mm + dd + yyyy);
  };
  O['enter-time'] = () => {
    const m = utt().match(/Enter (\d+):(\d+) ?(AM|PM) as the time/);
    let h = +m[1] % 12;
    if (m[3] === 'PM') h += 12;
    const want = ('0' + h).slice(-2) + ':' + m[2];
    const el = $1('#tt');
    if (el.value === want) return click(submit());
    return type(el, m[1].padStart(2, '0') + m[2] + m[3]);
  };

  // ---- lists, menus, trees, search ----------------------------------------------------------
  const SOCIAL = {'Reply': 'reply', 'Retweet': 'retweet', 'Like': 'like', 'Share': 'share',
    'Share via DM': 'share', 'Copy link to Tweet': 'copy', 'Embed Tweet': 'embed', 'Mute': 'menu-user',
    'Block': 'block-user', 'Report': 'report'};
  const postsBy = (user) => $$('#area .media').filter((m) => text($1('.username', m)) === user);
  O['social-media'] = () => {
    const [user, label] = bolds();
    const post = postsBy(user)[0];
    const cls = SOCIAL[label];
    const direct = $1('.controls > .' + cls, post);
    if (direct) return click(direct);
    const item = $1('ul li.' + cls, post);
    return visible(item) ? click(item) : click($1('.more', post));
  };
  function socialSome(limit) {
    const [label, a, b] = bolds();
    const user = limit ? b : a;
    const want = limit ? +a : Infinity;
    const cls = SOCIAL[label];
    const buttons = postsBy(user).map((p) => $1('.' + cls, p));
    const active = buttons.filter((x) => x.classList.contains('active')).length;
    const next = buttons.find((x) => !x.classList.contains('active'));
    if (active < want && next) return click(next);
    return click(byText('#area button', 'Submit'));
  }
  O['social-media-all'] = () => socialSome(false);
  O['social-media-some'] = () => socialSome(true);

  function email() {
    const u = utt();
    const name = bolds()[0];
    const reply = $1('#reply'), forward = $1('#forward'), open = $1('#email');
    if (reply && visible(reply)) {
      const t = u.match(/with the text "(.*)"\.$/)[1];
      return fill($1('#reply-text'), t) || click($1('#send-reply'));
    }
    if (forward && visible(forward)) return fill($1('.forward-sender'), bolds()[1]) || click($1('#send-forward'));
    const action = /reply to/.test(u) ? 'reply' : /forward/.test(u) ? 'forward' : /trash/.test(u) ? 'delete' : 'important';
    if (open && visible(open)) {
      if (text($1('.email-sender', open)) !== name) return click($1('#close-email'));
      return click($1({reply: '.email-reply', forward: '.email-forward', delete: '.email-actions .trash',
        important: '.email-actions .star'}[action], open));
    }
    const thread = $$('#main .email-thread').find((t) => text($1('.email-sender', t)) === name);
    if (action === 'delete') return click($1('.trash', thread));
    if (action === 'important') return click($1('.star', thread));
    return click($1('.email-sender', thread));
  }
  for (const t of ['email-inbox', 'email-inbox-delete', 'email-inbox-forward', 'email-inbox-important',
    'email-inbox-reply', 'email-inbox-star-reply', 'email-inbox-noscroll']) O[t] = email;

  O['click-menu'] = () => {
    const path = utt().replace(/^Select /, '').split('>');
    let ul = $1('#menu');
    for (let i = 0; i < path.length; i++) {
      const li = Array.from(ul.children).find((x) => text(x.firstElementChild) === path[i]);
      if (i === path.length - 1) return click(li.firstElementChild);
      const sub = $1(':scope > ul', li);
      if (!visible(sub)) {
        const head = li.firstElementChild;
        return head.classList.contains('ui-state-active') ? wait(350) : {op: 'hover', ref: R(head)};
      }
      ul = sub;
    }
    return null;
  };
  const ICONS = {'ui-icon-disk': 'Save', 'ui-icon-seek-start': 'Prev', 'ui-icon-stop': 'Stop',
    'ui-icon-play': 'Play', 'ui-icon-seek-end': 'Next', 'ui-icon-zoomin': 'Zoom In', 'ui-icon-zoomout': 'Zoom Out'};
  O['click-menu-2'] = () => {
    let want = quoted()[1];
    const icon = $1('#query .ui-icon');
    if (icon) want = ICONS[Array.from(icon.classList).find((c) => ICONS[c])];
    const menu = $1('#menu');
    if (!visible(menu)) return click($1('#open-menu'));
    const li = $$('#menu li').find((x) => text(x) === want && !$1('ul', x));
    if (visible(li)) return click(li);
    const head = $$('#menu > li').find((x) => $1('ul', x) && $1('ul', x).contains(li)).firstElementChild;
    return head.classList.contains('ui-state-active') ? wait(350) : {op: 'hover', ref: R(head)};
  };
  O['navigate-tree'] = () => {
    const want = quoted()[0];
    const spans = $$('#tree span').filter((s) => text(s) === want);
    const shown = spans.find(visible);
    if (shown) return click(shown);
    const target = spans[0];
    let li = target.closest('li').parentElement.closest('li');
    const chain = [];
    while (li && li.closest('#tree')) { chain.unshift(li); li = li.parentElement.closest('li'); }
    const closed = chain.find((x) => !visible($1(':scope > ul', x)));
    return click($1(':scope > span', closed));
  };
  O['search-engine'] = () => {
    const want = bolds()[0];
    const k = parseInt(bolds()[1], 10) - 1;
    const box = $1('#search-text');
    const f = fill(box, want);
    if (f) return f;
    const link = $1(`#page-content a[data-result="${k}"]`);
    if (link) return click(link);
    if (!$1('#page-content a')) return click($1('#search'));
    const page = String(Math.floor(k / 3) + 1);
    return click($$('#pagination a').find((a) => text(a) === page));
  };
  O['use-autocomplete-nodelay'] = () => {
    const [f, e] = bolds();
    const box = $1('#tags');
    const ok = (v) => v.startsWith(f) && (e === undefined || v.endsWith(e));
    if (ok(box.value)) return click(submit());
    const item = $$('.ui-autocomplete li').filter(visible).find((li) => ok(text(li)));
    if (item) return click(item);
    const m = mem();
    if (box.value === f && !m.kicked) { m.kicked = true; return press('ArrowDown'); }  // open the list
    if (box.value === f) { m.kicked = false; return wait(100); }
    return fill(box, f);
  };
  O['use-spinner'] = () => {
    const n = +utt().match(/Select (-?\d+) with/)[1];
    const v = +$1('#spinner').value;
    if (v === n) return click(submit());
    return click($1(v < n ? '.ui-spinner-up' : '.ui-spinner-down'));
  };

  // ---- reasoning over the page ---------------------------------------------------------------
  const num = (s) => parseInt(s, 10);
  O['simple-arithmetic'] = () => {
    const [a, op, b] = text($1('#math-problem')).split(/\s+/);
    const v = op === '+' ? num(a) + num(b) : op === '-' ? num(a) - num(b) : num(a) * num(b);
    return fill($1('#math-answer'), String(v)) || click(submit());
  };
  O['simple-algebra'] = () => {
    const t = text($1('#math-problem'));
    let m, v;
    if ((m = t.match(/^x ([+-]) (\d+) = (\d+)$/))) v = m[1] === '+' ? num(m[3]) - num(m[2]) : num(m[3]) + num(m[2]);
    else if ((m = t.match(/^(\d+) ([+-]) x = (\d+)$/))) v = m[2] === '+' ? num(m[3]) - num(m[1]) : num(m[1]) - num(m[3]);
    return fill($1('#math-answer'), String(v)) || click(submit());
  };
  O['odd-or-even'] = () => {
    for (const row of $$('#numbers .row')) {
      const n = num(text($1('.display-number', row)));
      const want = $1(Math.abs(n % 2) === 1 ? '.odd' : '.even', row);
      if (!want.classList.contains('selected')) return click(want);
    }
    return click($1('#submit'));
  };
  O['find-greatest'] = () => {
    const m = mem();
    m.seen = m.seen || {};
    const cards = $$('#cardholder .card');
    const open = cards.find((c) => !c.classList.contains('hidden'));
    if (open) m.seen[open.dataset.index] = num(text(open));
    const unseen = cards.find((c) => !(c.dataset.index in m.seen));
    if (unseen) return click(unseen);
    const best = cards.reduce((a, c) => (m.seen[c.dataset.index] > m.seen[a.dataset.index] ? c : a));
    return best === open ? click($1('#submit')) : click(best);
  };
  O['guess-number'] = () => {
    const m = mem();
    if (m.lo === undefined) { m.lo = 0; m.hi = 9; }
    const higher = $1('#higher'), lower = $1('#lower');
    const box = $1('#tt');
    if (m.asked !== undefined && box.value === String(m.asked)) {
      if (visible(higher) && num(text($1('span', higher))) === m.asked) m.lo = m.asked + 1;
      else if (visible(lower) && num(text($1('span', lower))) === m.asked) m.hi = m.asked - 1;
      else return click($1('#subbtn'));
      m.asked = undefined;
    }
    if (m.asked === undefined) m.next = Math.floor((m.lo + m.hi) / 2);
    const f = fill(box, String(m.next));
    if (f) return f;
    m.asked = m.next;
    return click($1('#subbtn'));
  };
  // SVG shapes of MiniWoB's shapes.js read back from their elements.
  function shapeOf(el) {
    const size = (v) => (v >= 15 ? 'large' : 'small');
    const color = el.getAttribute('fill');
    if (el.tagName === 'text') {
      const t = el.textContent;
      return {el, color, text: t, type: /\d/.test(t) ? 'digit' : 'letter', size: size(parseFloat(el.getAttribute('font-size')))};
    }
    if (el.tagName === 'rect') return {el, color, text: 'rectangle', type: 'shape', size: size(+el.getAttribute('width'))};
    if (el.tagName === 'circle') return {el, color, text: 'circle', type: 'shape', size: size(2 * el.getAttribute('r'))};
    const xs = el.getAttribute('points').split(/[ ,]/).map(Number);
    return {el, color, text: 'triangle', type: 'shape', size: size(xs[4] - xs[0])};
  }
  const COLORS = ['red', 'green', 'blue', 'aqua', 'black', 'magenta', 'yellow'];
  function shapeMatches(s, desc) {
    const words = desc.trim().split(/\s+/);
    let i = 0;
    if (words[i] === 'large' || words[i] === 'small') { if (s.size !== words[i]) return false; i++; }
    if (COLORS.includes(words[i]) && i < words.length - 1) { if (s.color !== words[i]) return false; i++; }
    const w = words.slice(i).join(' ');
    return w === 'item' || w === s.text || w === s.type;
  }
  const svgShapes = () => $$('#area_svg text, #area_svg rect, #area_svg circle, #area_svg polygon').map(shapeOf);
  O['click-shape'] = () => click(svgShapes().find((s) => shapeMatches(s, utt().replace(/^Click on an? /, ''))).el);
  O['count-shape'] = () => {
    const desc = utt().match(/How many (.*)s are there\?/)[1];
    const n = svgShapes().filter((s) => shapeMatches(s, desc)).length;
    return click(byText('#count-buttons button', String(n)));
  };
  O['identify-shape'] = () => {
    const s = svgShapes()[0];
    return click($1(`#area-buttons button[data-type="${s.type === 'shape' ? s.text : s.type}"]`));
  };
  O['grid-coordinate'] = () => click(document.getElementById(bolds()[0]));
  O['phone-book'] = () => {
    const m = utt().match(/^Find (.*) in the contact book and click on their (\w+)/);
    const card = $1('#contact');
    if (text($1('.name', card)) === m[1]) return click($1('a.' + m[2], card));
    return click(byText('#pagination a', '>'));
  };
  O['terminal'] = () => {
    const u = utt();
    const ext = (u.match(/extension \.(\S+?)\.?$/) || [])[1];
    const outputs = $$('.terminal-output .output').map(text);
    const listing = outputs.length > 2 ? outputs[outputs.length - 1] : null;
    const typed = text($1('#active-input'));
    const m = mem();
    if (!m.cmd) {
      if (!listing || !m.listed) { m.cmd = 'ls'; m.listed = true; }
      else {
        const files = listing.split(/\s+/);
        const f = files.find((x) => (ext ? x.endsWith('.' + ext) : x.indexOf('.') === -1));
        m.cmd = 'rm ' + f;
      }
    }
    if (typed !== m.cmd) return type($1('#terminal'), m.cmd.slice(typed.length));
    m.cmd = null;
    return press('Enter');
  };

  // ---- forms, dates, scrolling ---------------------------------------------------------------
  O['click-scroll-list'] = () => {
    const want = utt().match(/^Select (.*) from the scroll list/)[1].split(', ');
    const sel = $1('#options');
    const chosen = Array.from(sel.selectedOptions).map(text);
    const missing = want.find((w) => !chosen.includes(w));
    if (missing) return select(sel, missing);
    return click(byText('#area button', 'Submit'));
  };
  O['scroll-text-2'] = () => {
    const ta = $1('#text-area');
    const bottom = /bottom/.test(utt());
    const atEnd = bottom ? ta.scrollTop + ta.clientHeight >= ta.scrollHeight - 5 : ta.scrollTop === 0;
    if (!atEnd) return {op: 'scroll', ref: R(ta), dy: bottom ? ta.scrollHeight : -ta.scrollHeight};
    return click(submit());
  };
  O['copy-paste'] = () => fill($1('#answer-input'), $1('#to-copy').value) || click(submit());
  O['copy-paste-2'] = () => {
    const k = {'1st': 1, '2nd': 2, '3rd': 3}[bolds()[0]];
    return fill($1('#answer-input'), $1('#text-' + k).value) || click(submit());
  };
  O['text-transform'] = () => fill($1('#tt'), $$('#captcha span').map((x) => x.textContent).join('')) || click(submit());
  O['read-table-2'] = () => {
    const table = {};
    for (const tr of $$('#area table tr')) table[text(tr.cells[0])] = text(tr.cells[1]);
    for (const i of [1, 2]) {
      const f = fill($1('#tt' + i), table[$1('#ll' + i).getAttribute('data-key')]);
      if (f) return f;
    }
    return click(submit());
  };
  O['form-sequence-2'] = () => {
    const m = utt().match(/Check the (\w+) radio button and enter the number "(-?\d+)" into the (\w+) textbox/);
    const pos = {'1st': 0, '2nd': 1, '3rd': 2};
    const radio = $$('#area input[type=radio]')[pos[m[1]]];
    if (!radio.checked) return click(radio);
    return fill($$('#area input[type=text]')[pos[m[3]]], m[2]) || click(submit());
  };
  O['generate-number'] = () => {
    const u = utt();
    const shown = text($1('#display-number'));
    const n = num(shown);
    let m, ok = false;
    if (shown !== '-') {
      if ((m = u.match(/less than (\d+)/))) ok = n < +m[1];
      else if ((m = u.match(/greater than (\d+)/))) ok = n > +m[1];
      else if (/odd/.test(u)) ok = Math.abs(n % 2) === 1;
      else ok = n % 2 === 0;
    }
    return click($1(ok ? '#submit' : '#generate'));
  };
  O['sign-agreement'] = () => {
    const u = utt();
    if (/^Click the cancel button/.test(u)) return click($1('#cancel'));
    const ta = $1('#text-area');
    if ($1('#name').disabled) return {op: 'scroll', ref: R(ta), dy: ta.scrollHeight};
    return fill($1('#name'), quoted()[0]) || click($1(/"Agree"/.test(u) ? '#agree' : '#cancel'));
  };
  const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
    'October', 'November', 'December'];
  function datepicker() {
    const [mm, dd, yyyy] = utt().match(/Select (\d+\/\d+\/\d+) as the date/)[1].split('/').map(Number);
    const input = $1('#datepicker');
    const want = utt().match(/Select (\S+) as/)[1];
    if (input.value === want) return click(submit());
    const cal = $1('#ui-datepicker-div');
    if (!cal || !visible(cal)) return click(input);
    const month = MONTHS.indexOf(text($1('.ui-datepicker-month', cal)));
    const year = num(text($1('.ui-datepicker-year', cal)));
    const diff = (yyyy - year) * 12 + (mm - 1 - month);
    if (diff < 0) return click($1('.ui-datepicker-prev', cal));
    if (diff > 0) return click($1('.ui-datepicker-next', cal));
    return click($$('td a', cal).find((a) => num(text(a)) === dd));
  }
  O['choose-date-nodelay'] = datepicker;

  // ---- the same tasks with animations and delays ---------------------------------------------
  O['click-collapsible'] = () => {
    const body = $1('#area h3 + div');
    if (body && visible(body) && $('#area').is(':animated') === false && !$1('#area .ui-accordion-content:not(.ui-accordion-content-active)[style*="display: block"]')) {
      return click(submit());
    }
    if (body && visible(body)) return wait(300);
    return click($1('#area h3'));
  };
  O['click-collapsible-2'] = () => (
    $$('#area > div').some((d) => $(d).is(':animated')) ? wait(300) : O['click-collapsible-2-nodelay']());
  O['use-autocomplete'] = O['use-autocomplete-nodelay'];
  const animating = () => $('#ui-datepicker-div').is(':animated');
  for (const t of ['choose-date', 'choose-date-easy', 'choose-date-medium']) {
    O[t] = () => (animating() ? wait(200) : datepicker());
  }
  O['button-delay'] = () => {
    const m = mem();
    const secs = num(utt().match(/wait (\d+) seconds?/)[1]);
    if (!m.one) { m.one = true; return click($1('#subbtn')); }
    if (!m.waited) { m.waited = true; return wait(secs * 1000); }
    return click($1('#subbtn2'));
  };

  // ---- drag ----------------------------------------------------------------------------------
  O['drag-items'] = () => {
    const m = utt().match(/^Drag (\S+) (.*)\.$/);
    const items = $$('#sortable li');
    const from = items.findIndex((li) => text(li) === m[1]);
    const d = m[2];
    let to;
    if (d === 'to the top') to = 0;
    else if (d === 'to the bottom') to = items.length - 1;
    else if (d === 'down by one position') to = from + 1;
    else if (d === 'up by one position') to = from - 1;
    else to = num(d.match(/to the (\d+)/)[1]) - 1;
    const h = items[to].getBoundingClientRect().height;
    return Object.assign(drag(items[from], items[to]), {dx: 0, dy: (to > from ? 0.4 : -0.4) * h});
  };

  O['drag-sort-numbers'] = () => {
    const items = $$('#sortable li');
    const vals = items.map((li) => num(text(li)));
    const sorted = vals.slice().sort((a, b) => a - b);
    const i = vals.findIndex((v, k) => v !== sorted[k]);
    if (i === -1) return click(submit());
    const from = vals.indexOf(sorted[i], i);
    const h = items[i].getBoundingClientRect().height;
    return Object.assign(drag(items[from], items[i]), {dx: 0, dy: -0.4 * h});
  };

  window.__oracles = {
    types: Object.keys(O),
    step(task) {
      const fn = O[task];
      if (!fn) return fail('no oracle for ' + task);
      try {
        const a = fn();
        if (!a) return fail('the oracle found no action');
        if ('ref' in a && (a.ref === null || a.ref === undefined)) return fail('the oracle found no element');
        return a;
      } catch (e) {
        return fail(String(e));
      }
    },
  };
})();
