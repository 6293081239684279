/**
 * The scripts the browser client runs in a page through the kit's `/eval` (the kit has no
 * click/type/snapshot endpoints and no element references [S:3983]). One prelude keeps per-document
 * state under `Symbol.for('hoody')` on `window` — a random document id, and refs as a WeakMap
 * (element → `e12`) plus a Map of WeakRefs (ref → element): the DOM is never mutated, a
 * re-snapshot of one document gives the same refs, and a new document (navigation, reload) starts
 * with a new id, so a ref from an older snapshot is refused instead of resolving to another element.
 * Dialogs (alert/confirm/prompt) are recorded and dismissed so an action can report them.
 *
 * Each script is an expression: `(() => { … })()` returning JSON-serialisable data.
 */

const PRELUDE = String.raw`
const K = Symbol.for('hoody');
const newDoc = () => 'd' + Math.random().toString(36).slice(2, 10);
const st = window[K] || (window[K] = { doc: newDoc(), n: A.base || 0, byEl: new WeakMap(), byRef: new Map(), dialogs: [] });
if (!st.hooked) {
  st.hooked = true;
  // A page restored from the back/forward cache is another visit: its refs start over as stale.
  addEventListener('pageshow', (e) => { if (e.persisted) st.doc = newDoc(); });
  const rec = (type, ret) => function (m, d) { st.dialogs.push({ type, message: String(m ?? '').slice(0, 120) }); return ret(d); };
  window.alert = rec('alert', () => undefined);
  window.confirm = rec('confirm', () => false);
  window.prompt = rec('prompt', () => null);
}
const clean = (s, max) => { s = String(s ?? '').replace(/\s+/g, ' ').trim(); return s.length > max ? s.slice(0, max - 1) + '…' : s; };
const refOf = (el) => {
  let r = st.byEl.get(el);
  if (!r) { r = 'e' + (++st.n); st.byEl.set(el, r); st.byRef.set(r, new WeakRef(el)); }
  return r;
};
const byRef = (r) => { const el = st.byRef.get(r)?.deref(); return el && el.isConnected ? el : null; };
const INTERACTIVE = new Set(['link','button','checkbox','radio','textbox','searchbox','combobox','listbox','slider','spinbutton','switch','tab','menuitem','menuitemcheckbox','menuitemradio','option','treeitem']);
const INPUT_ROLES = { checkbox: 'checkbox', radio: 'radio', button: 'button', submit: 'button', reset: 'button', image: 'button', file: 'button', range: 'slider', number: 'spinbutton', search: 'searchbox' };
function roleOf(el) {
  const r = el.getAttribute('role');
  if (r) return r.split(' ')[0];
  const t = el.tagName;
  if (t === 'A') return el.hasAttribute('href') ? 'link' : null;
  if (t === 'BUTTON' || t === 'SUMMARY') return 'button';
  if (t === 'INPUT') return el.type === 'hidden' ? null : INPUT_ROLES[el.type] || 'textbox';
  if (t === 'SELECT') return el.multiple || el.size > 1 ? 'listbox' : 'combobox';
  if (t === 'TEXTAREA') return 'textbox';
  if (/^H[1-6]$/.test(t)) return 'heading';
  if (el.isContentEditable && el.hasAttribute('contenteditable')) return 'textbox';
  return null;
}
const FIELD = new Set(['INPUT', 'SELECT', 'TEXTAREA']);
function textExcept(root, skip) {
  let s = '';
  const w = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = w.nextNode(); n; n = w.nextNode()) if (!skip.contains(n) && !n.parentElement.closest('select,option')) s += ' ' + n.textContent;
  return s;
}
function nameOf(el, role) {
  let n = el.getAttribute('aria-label');
  const ids = !n && el.getAttribute('aria-labelledby');
  if (ids) n = ids.split(/\s+/).map((i) => document.getElementById(i)?.textContent || '').join(' ');
  if (!n && el.labels && el.labels.length) n = [...el.labels].map((l) => textExcept(l, el)).join(' ');
  if (!n && el.tagName === 'INPUT' && role === 'button') n = el.value || el.alt;
  if (!n && !FIELD.has(el.tagName)) n = el.innerText;
  if (!n) n = el.getAttribute('placeholder') || el.getAttribute('title') || el.querySelector?.('img[alt]')?.alt || el.getAttribute('alt') || el.name || '';
  return clean(n, 60).replace(/\]/g, ')');
}
function stateOf(el, role) {
  const s = [];
  if (role === 'checkbox' || role === 'radio' || role === 'switch') { if (el.checked || el.getAttribute('aria-checked') === 'true') s.push('checked'); }
  else if (el.tagName === 'SELECT') s.push('= "' + clean([...el.selectedOptions].map((o) => o.label).join(', '), 40) + '"');
  else if (role === 'textbox' || role === 'searchbox' || role === 'spinbutton' || role === 'slider') {
    const v = el.isContentEditable ? el.innerText : el.value;
    if (v) s.push('= "' + (el.type === 'password' ? '•••' : clean(v, 40).replace(/\]/g, ')')) + '"');
  }
  if (el.disabled || el.getAttribute('aria-disabled') === 'true') s.push('disabled');
  const ex = el.getAttribute('aria-expanded');
  if (ex) s.push(ex === 'true' ? 'expanded' : 'collapsed');
  if (el.getAttribute('aria-selected') === 'true') s.push('selected');
  return s.join(' ');
}
const seen = new Map();
function visible(el) {
  if (seen.has(el)) return seen.get(el);
  let v = el.checkVisibility ? el.checkVisibility({ visibilityProperty: true }) : !!el.offsetParent;
  if (v && el.nodeType === 1 && el.tagName !== 'OPTION') { const r = el.getBoundingClientRect(); v = r.width > 0 || r.height > 0; }
  seen.set(el, v);
  return v;
}
function describe(el) {
  const role = roleOf(el);
  const ref = refOf(el);
  if (role === 'heading') {
    const lvl = Number(el.getAttribute('aria-level') || el.tagName.slice(1)) || 2;
    return { ref, head: '#'.repeat(Math.min(lvl, 6)) + ' ' + clean(el.innerText, 100) + ' [' + ref + ']' };
  }
  const sv = stateOf(el, role);
  // Buttons are the most common element: their role goes unsaid ([e12 Save]); every other role is named.
  let s = '[' + ref + ' ' + (role === 'button' ? '' : role + ' ') + (nameOf(el, role) || '(no name)') + (sv ? ' ' + sv : '');
  if (A.urls && role === 'link') s += ' → ' + clean(el.href, 200);
  return { ref, part: s + ']' };
}
function target() {
  if (A.selector) {
    let el;
    try { el = document.querySelector(A.selector); } catch (e) { return { error: 'bad_selector', message: String(e.message).slice(0, 120) }; }
    return el ? { el } : { error: 'no_match' };
  }
  if (A.ref) {
    if (A.doc && A.doc !== st.doc) return { error: 'stale' };
    const el = byRef(A.ref);
    return el ? { el } : { error: A.doc ? 'gone' : 'stale' };
  }
  return {};
}
`;

/** The snapshot: interactive elements and headings with refs, and visible text, condensed into lines within `budget` bytes. */
const SNAPSHOT = String.raw`
const LINE = 'tr,li,p,dt,dd,pre,blockquote,figcaption,caption,legend,h1,h2,h3,h4,h5,h6';
const BLOCK = LINE + ',div,section,article,main,aside,header,footer,nav,form,fieldset,td,th,table,ul,ol,dl,details,body';
const ITEM = 'a[href],button,input,select,textarea,summary,h1,h2,h3,h4,h5,h6,[role],[contenteditable]';
const SKIP_TEXT = 'script,style,noscript,template,option,select,textarea,label,a[href],button,summary,h1,h2,h3,h4,h5,h6,[role=button],[role=link],[role=tab],[role=menuitem],[role=option],[role=heading],[role=switch],[role=checkbox],[role=radio]';
const t = target();
if (t.error) return { error: t.error, message: t.message, doc: st.doc };
const root = t.el || document.body || document.documentElement;
let scope = (n) => root.contains(n) || n === root;
if (t.el && roleOf(t.el) === 'heading') {
  const lvl = Number(t.el.tagName.slice(1)) || 2;
  const hs = [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')];
  const end = hs.slice(hs.indexOf(t.el) + 1).find((h) => Number(h.tagName.slice(1)) <= lvl);
  scope = (n) => n === t.el || (t.el.compareDocumentPosition(n) & 4 && (!end || n.compareDocumentPosition(end) & 4));
}
const base = t.el && t.el.tagName !== 'SELECT' && roleOf(t.el) !== 'heading' ? t.el : document.body || document.documentElement;
const order = [];
const lineFor = (node, own) => {
  const el = node.nodeType === 1 ? node : node.parentElement;
  const key = el.closest(LINE) || (own ? el : el.closest(BLOCK)) || el;
  // A line is one container's consecutive content: a heading in between starts a new line.
  let l = order[order.length - 1];
  if (!l || l.key !== key) { l = { key, parts: [], cell: null }; order.push(l); }
  return l;
};
const all = [];
const w = document.createTreeWalker(t.el && roleOf(t.el) === 'heading' ? document.body : base, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
for (let n = w.currentNode; n; n = w.nextNode()) {
  if (!scope(n)) continue;
  if (n.nodeType === 3) {
    const p = n.parentElement;
    const txt = clean(n.textContent, 400);
    if (!txt || !p || p.closest(SKIP_TEXT) || !visible(p)) continue;
    const l = lineFor(n, false);
    const cell = p.closest('td,th');
    l.parts.push((l.parts.length && cell && cell !== l.cell ? '|' : ' ') + txt);
    l.cell = cell;
    continue;
  }
  if (!n.matches(ITEM)) continue;
  const role = roleOf(n);
  if (!role || (role !== 'heading' && !INTERACTIVE.has(role)) || !visible(n)) continue;
  // A heading's own anchor link (mdBook, rustdoc) says nothing the heading does not.
  const h = role === 'link' && n.closest('h1,h2,h3,h4,h5,h6');
  if (h && clean(n.innerText, 100) === clean(h.innerText, 100)) continue;
  const d = describe(n);
  if (d.head) { const l = lineFor(n, true); l.parts.push(d.head); continue; }
  const l = lineFor(n, n.closest(LINE) ? false : !n.parentElement.closest('nav,form,fieldset,p,li,td'));
  const prev = l.parts[l.parts.length - 1];
  l.parts.push((prev && prev.endsWith(']') ? '' : ' ') + d.part);
}
if (t.el && t.el.tagName === 'SELECT') for (const o of t.el.options) order.push({ key: o, parts: ['option "' + clean(o.label, 80) + '"' + (o.selected ? ' selected' : '') + (o.disabled ? ' disabled' : '')] });
const vh = innerHeight;
const q = A.query ? A.query.toLowerCase() : '';
let out = [];
for (const l of order) {
  const r = l.key.getBoundingClientRect ? l.key.getBoundingClientRect() : { top: 0, bottom: 1 };
  const inView = r.bottom > 0 && r.top < vh;
  let text = l.parts.join('').trim();
  while (text.length > 0) {
    let piece = text;
    if (piece.length > 240) { const at = piece.lastIndexOf('[e', 240); const cut = at > 40 ? at : piece.lastIndexOf(' ', 200); piece = text.slice(0, cut > 40 ? cut : 200); }
    const rest = text.slice(piece.length).trim();
    if (!/\[e\d+/.test(piece) && !piece.startsWith('#') && piece.length > 160) piece = piece.slice(0, 159) + '…';
    out.push({ text: piece, inView });
    text = /\[e\d+/.test(rest) ? rest : '';
  }
}
if (q) out = out.filter((l) => l.text.toLowerCase().includes(q));
const ordered = [...out.filter((l) => l.inView), ...out.filter((l) => !l.inView)];
const firstOut = out.filter((l) => l.inView).length;
const enc = new TextEncoder();
const total = ordered.length;
const start = Math.min(A.offset || 0, total);
let used = 0;
const shown = [];
let i = start;
for (; i < total; i++) {
  const s = (i === firstOut && firstOut > 0 ? '-- below/above the viewport --\n' : '') + ordered[i].text;
  const b = enc.encode(s).length + 1;
  if (used + b > A.budget) break;
  used += b;
  shown.push(s);
}
const items = (s) => (s.match(/\[e\d+/g) || []).length + (s.match(/^#+ /) ? 1 : 0);
const left = ordered.slice(i).reduce((n, l) => n + items(l.text), 0);
return { doc: st.doc, url: location.href, title: document.title, lines: shown, offset: start, next: i < total ? i : null, total, left };
`;

/** One action on one element (or the page); returns what it did and the element's state after. */
const ACT = String.raw`
const t = target();
if (t.error) return { error: t.error, message: t.message, doc: st.doc };
const el = t.el;
const a = A.action;
const before = { url: location.href, title: document.title, dialogs: st.dialogs.length };
const later = (f) => setTimeout(f, 0);
const fire = (type, init) => el.dispatchEvent(new (type.startsWith('key') ? KeyboardEvent : type.includes('input') ? InputEvent : type.startsWith('mouse') || type === 'click' ? MouseEvent : type.startsWith('pointer') ? PointerEvent : Event)(type, { bubbles: true, cancelable: true, composed: true, ...init }));
if (['click','type','select','hover','press'].includes(a) && !el && a !== 'press') return { error: 'need_target' };
const d = el ? describe(el) : null;
const label = d ? (d.part || d.head).replace(/ = .*\]$/, ']') : '';
if (el && a !== 'scroll' && a !== 'press') el.scrollIntoView({ block: 'center', inline: 'center' });
if (el && (el.disabled || el.getAttribute('aria-disabled') === 'true') && a !== 'scroll' && a !== 'hover') return { error: 'disabled', label };
if (a === 'click') {
  for (const ty of ['pointerover','pointerdown','mousedown']) fire(ty, {});
  if (el.focus) el.focus();
  for (const ty of ['pointerup','mouseup']) fire(ty, {});
  el.click();
} else if (a === 'hover') {
  for (const ty of ['pointerover','pointerenter','mouseover','mouseenter','pointermove','mousemove']) fire(ty, {});
} else if (a === 'type') {
  const text = String(A.text ?? '');
  el.focus();
  if (el.isContentEditable) { el.textContent = ''; }
  else {
    const proto = el.tagName === 'TEXTAREA' ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
    const set = Object.getOwnPropertyDescriptor(proto, 'value')?.set;
    if (!set || !('value' in el)) return { error: 'not_typable', label };
    set.call(el, '');
    for (const ch of text) {
      fire('keydown', { key: ch });
      fire('keypress', { key: ch });
      fire('beforeinput', { data: ch, inputType: 'insertText' });
      set.call(el, el.value + ch);
      fire('input', { data: ch, inputType: 'insertText' });
      fire('keyup', { key: ch });
    }
  }
  if (el.isContentEditable) { el.textContent = text; fire('input', { data: text, inputType: 'insertText' }); }
  fire('change', {});
} else if (a === 'select') {
  if (el.tagName !== 'SELECT') return { error: 'not_select', label };
  const want = String(A.text ?? '');
  const o = [...el.options].find((o) => o.value === want) || [...el.options].find((o) => o.label.trim().toLowerCase() === want.trim().toLowerCase());
  if (!o) return { error: 'no_option', label, options: [...el.options].slice(0, 20).map((o) => clean(o.label, 40)) };
  el.value = o.value;
  fire('input', {});
  fire('change', {});
} else if (a === 'press') {
  const tg = el || document.activeElement || document.body;
  const key = String(A.key);
  const ev = (type) => tg.dispatchEvent(new KeyboardEvent(type, { key, bubbles: true, cancelable: true, composed: true }));
  const go = ev('keydown');
  ev('keypress');
  ev('keyup');
  if (go && key === 'Enter') {
    if (tg.tagName === 'INPUT' && tg.form) later(() => tg.form.requestSubmit());
    else if (tg.tagName === 'A' || tg.tagName === 'BUTTON') tg.click();
  }
} else if (a === 'scroll') {
  if (el) el.scrollIntoView({ block: 'start' });
  else scrollBy(0, (A.direction === 'up' ? -0.8 : 0.8) * innerHeight);
} else if (a === 'back') later(() => history.back());
else if (a === 'forward') later(() => history.forward());
else if (a === 'reload') later(() => location.reload());
const after = el && el.isConnected ? describe(el) : null;
return { doc: st.doc, label, state: after && after.part ? stateOf(el, roleOf(el)) : '', url: location.href, title: document.title, before, dialogs: st.dialogs.slice(before.dialogs), scrollY: Math.round(scrollY) };
`;

/** After an action: where the page is now (a new document has a new id, and no dialogs yet). */
const PROBE = String.raw`
const since = A.doc === st.doc ? A.dialogs : 0;
return { doc: st.doc, url: location.href, title: document.title, ready: document.readyState, dialogs: st.dialogs.slice(since) };
`;

const wrap = (body: string, args: Record<string, unknown>) => `(() => { const A = ${JSON.stringify(args)};\n${PRELUDE}\n${body}\n})()`;

export interface SnapshotArgs {
  /** Refs of a new document are numbered after this (the tab's highest so far): numbers never repeat in a tab. */
  base?: number;
  offset?: number;
  query?: string;
  ref?: string;
  doc?: string;
  urls?: boolean;
  budget: number;
}
export interface ActArgs {
  base?: number;
  action: string;
  ref?: string;
  selector?: string;
  doc?: string;
  text?: string;
  key?: string;
  direction?: 'up' | 'down';
}

export const snapshotScript = (a: SnapshotArgs) => wrap(SNAPSHOT, { ...a });
export const actScript = (a: ActArgs) => wrap(ACT, { ...a });
export const probeScript = (a: { doc?: string; dialogs: number; base?: number }) => wrap(PROBE, a);
