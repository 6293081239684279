import * as z from 'zod';
import type { ActResult, LogEntry, Snapshot } from '../src/core/kits/browser.js';
import { defineScope } from '../src/mcp/define-tool.js';
import { describeImage, scaleImage } from '../src/mcp/image.js';
import { BUDGET_CHARS, clip, fail, ok, reply } from '../src/mcp/result.js';
import { container, inContainer, tool, type Deps } from './common.js';

const tabArg = z.number().int().min(1).optional();

/** Browser tools work on one tab of the container's browser: `container` and `tab`. */
const inTab = defineScope<Deps, { id: string; tab?: number }>({
  name: 'tab',
  args: { container, tab: tabArg },
  resolve: async (args, deps, signal) => ({ id: await deps.containerId(args.container as string | undefined, signal), tab: args.tab as number | undefined }),
});

/** Snapshot budgets (bytes of element lines): the full one, and the compact one navigate returns. */
const SNAPSHOT_BYTES = 7_600;
const NAV_SNAPSHOT_BYTES = 3_000;

const cap = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function snapshotText(s: Snapshot): string {
  const head = `${cap(s.title || '(no title)', 100)} — ${cap(s.url, 200)}`;
  const body = s.lines.length ? s.lines.join('\n') : s.total ? '' : '(nothing visible)';
  const more = s.next !== null ? `\n… ${s.left} elements in ${s.total - s.next} more lines left out: offset=${s.next} continues, query filters, ref=eN descends` : '';
  return `${head}\n${body}${more}`;
}

/** The ≤ 400-byte answer of an action: what was done, and what changed. */
function actText(action: string, r: ActResult, a: { text?: string; key?: string }): string {
  const verb: Record<string, string> = {
    click: 'clicked', type: 'typed into', press: `pressed ${cap(a.key ?? '', 20)} on`, select: `selected "${cap(a.text ?? '', 40)}" in`, hover: 'hovered',
    scroll: 'scrolled', back: 'went back', forward: 'went forward', reload: 'reloaded',
  };
  const parts = [`${verb[action]}${r.label ? ` ${cap(r.label, 80)}` : ''}`.trim()];
  if (r.state) parts.push(`now ${cap(r.state, 60)}`);
  if (r.url !== r.urlBefore) parts.push(`url ${cap(r.url, 120)}`);
  if (r.title !== r.titleBefore) parts.push(`title "${cap(r.title, 60)}"`);
  if (r.navigated && r.url === r.urlBefore) parts.push('page reloaded');
  for (const d of r.dialogs.slice(0, 2)) parts.push(`${d.type} "${cap(d.message, 60)}" dismissed`);
  for (const t of r.newTabs.slice(0, 2)) parts.push(`new tab ${t.id} ${cap(t.url, 80)}`);
  if (r.navigated) parts.push('refs renewed: snapshot again');
  let s = parts.join(' · ');
  while (Buffer.byteLength(s) > 400) s = `${s.slice(0, s.length - Math.max(1, Buffer.byteLength(s) - 399))}…`;
  return s;
}

function logLine(e: LogEntry): string {
  const t = e.timestamp ? `${e.timestamp.slice(11, 19)} ` : '';
  if (e.method || e.status !== undefined) return cap(`${t}${e.status ?? '?'} ${e.method ?? ''} ${e.url ?? ''} ${e.resourceType ?? ''}`, 300);
  return cap(`${t}${e.type ?? 'log'}: ${String(e.text ?? '').replace(/\s+/g, ' ')}`, 300);
}

export const browserTools = [
  tool({
    name: 'browser_navigate',
    title: 'Open a URL',
    description: 'Open an http(s) URL; returns title, URL and a compact snapshot with refs.',
    toolset: 'browser',
    kind: 'write',
    scope: inTab,
    input: z.object({ url: z.string().min(1) }),
    async handler(args, { deps, signal, scope }) {
      const nav = await deps.browser.navigate(scope.id, args.url, scope.tab, signal);
      const s = await deps.browser.snapshot(scope.id, { tab: nav.tabId, budget: NAV_SNAPSHOT_BYTES }, signal);
      return ok(snapshotText(s), { tab: s.tab, url: s.url, next: s.next });
    },
  }),

  tool({
    name: 'browser_snapshot',
    title: 'Page snapshot',
    description:
      'Page as text: headings and interactive elements with refs ([e12 Save] is a button, [e13 link Docs]) and visible text, viewport first, ≤ 8 KB; refs last until navigation. offset continues, query filters, ref shows one subtree.',
    toolset: 'browser',
    kind: 'read',
    scope: inTab,
    input: z.object({
      offset: z.number().int().min(0).optional(),
      query: z.string().min(1).max(200).optional(),
      ref: z.string().optional(),
      urls: z.boolean().optional().describe('link URLs'),
    }),
    async handler(args, { deps, signal, scope }) {
      const s = await deps.browser.snapshot(scope.id, { tab: scope.tab, offset: args.offset, query: args.query, ref: args.ref, urls: args.urls, budget: SNAPSHOT_BYTES }, signal);
      return ok(snapshotText(s), { tab: s.tab, lines: s.lines.length, total: s.total, next: s.next, left: s.left });
    },
  }),

  tool({
    name: 'browser_screenshot',
    title: 'Page screenshot',
    description: 'Viewport or full_page screenshot, scaled (JPEG unless png), with its frame.',
    toolset: 'browser',
    kind: 'read',
    scope: inTab,
    input: z.object({ full_page: z.boolean().optional(), format: z.enum(['jpeg', 'png']).optional() }),
    async handler(args, { deps, signal, scope }) {
      const shot = await deps.browser.screenshot(scope.id, { tab: scope.tab, fullPage: args.full_page }, signal);
      const img = await scaleImage(shot.data, { format: args.format, signal });
      const frame = { id: `tab${shot.tab}-${Date.now().toString(36)}`, width: img.width, height: img.height, scale: Math.round(img.scale * 10_000) / 10_000 };
      return reply()
        .image(img)
        .text(`tab ${shot.tab} · frame ${frame.id} · ${describeImage(img)}`)
        .structured({ tab: shot.tab, frame });
    },
  }),

  tool({
    name: 'browser_act',
    title: 'Act on the page',
    description:
      'By ref or selector: click, type (replaces value, fires input+change), select (option value/label), hover, scroll to; or press a key, scroll the page (direction), back, forward, reload. Replies what changed; snapshot=true adds one.',
    toolset: 'browser',
    kind: 'write',
    scope: inTab,
    input: z.object({
      action: z.enum(['click', 'type', 'press', 'select', 'hover', 'scroll', 'back', 'forward', 'reload']),
      ref: z.string().optional(),
      selector: z.string().min(1).optional(),
      text: z.string().max(100_000).optional(),
      key: z.string().min(1).optional(),
      direction: z.enum(['up', 'down']).optional(),
      snapshot: z.boolean().optional(),
    }),
    async handler(args, { deps, signal, scope }) {
      const { snapshot, ...act } = args;
      const r = await deps.browser.act(scope.id, { tab: scope.tab, ...act }, signal);
      const line = actText(args.action, r, args);
      const structured = { tab: r.tab, url: r.url, navigated: r.navigated, new_tabs: r.newTabs.map((t) => t.id) };
      if (!snapshot) return ok(line, structured);
      const s = await deps.browser.snapshot(scope.id, { tab: r.tab, budget: SNAPSHOT_BYTES }, signal);
      return ok(`${line}\n\n${snapshotText(s)}`, structured);
    },
  }),

  tool({
    name: 'browser_eval',
    title: 'Run JavaScript',
    description: 'Evaluate a JS expression in the page (promises awaited) → its JSON value.',
    toolset: 'browser',
    kind: 'write',
    scope: inTab,
    input: z.object({ script: z.string().min(1).max(100_000) }),
    async handler(args, { deps, signal, scope }) {
      const r = await deps.browser.eval(scope.id, args.script, scope.tab, signal);
      const json = JSON.stringify(r.result, null, 1) ?? 'undefined';
      const c = clip(json, { budget: BUDGET_CHARS - 200, more: 'return less (slice it in the script)' });
      return ok(c.text, { tab: r.tab, chars: json.length, cut: c.cut > 0 });
    },
  }),

  tool({
    name: 'browser_tabs',
    title: 'Browser tabs',
    description: 'list, new (url), select (makes it current) or close tabs.',
    toolset: 'browser',
    kind: 'write',
    actions: { arg: 'action', kinds: { list: 'read', new: 'write', select: 'write', close: 'write' } },
    scope: inContainer,
    input: z.object({ action: z.enum(['list', 'new', 'select', 'close']), tab: tabArg, url: z.string().min(1).optional() }),
    async handler(args, { deps, signal, scope: id }) {
      const b = deps.browser;
      if (args.action === 'new') await b.open(id, args.url ?? 'about:blank', signal);
      else if (args.action === 'select' || args.action === 'close') {
        if (args.tab === undefined) return fail(`${args.action} needs tab`, 'browser_tabs list shows them');
        if (args.action === 'select') await b.useTab(id, args.tab, signal);
        else await b.closeTab(id, args.tab, signal);
      }
      const tabs = await b.tabs(id, signal);
      const lines = tabs.map((t) => `${t.active ? '*' : ' '} ${t.id} ${cap(t.url, 200)}`);
      const done = args.action === 'list' ? '' : `${args.action === 'new' ? 'opened' : args.action === 'select' ? 'selected' : 'closed'}; `;
      return ok(`${done}${tabs.length} tab${tabs.length === 1 ? '' : 's'} (* current)\n${lines.join('\n')}`, { tabs: tabs.map((t) => t.id), current: tabs.find((t) => t.active)?.id ?? null });
    },
  }),

  tool({
    name: 'browser_logs',
    title: 'Browser logs',
    description: 'Recent console messages (with page errors) or network responses.',
    toolset: 'browser',
    kind: 'read',
    scope: inTab,
    input: z.object({ kind: z.enum(['console', 'network']), limit: z.number().int().min(1).max(500).optional().describe('default 50') }),
    async handler(args, { deps, signal, scope }) {
      const all = await deps.browser.logs(scope.id, args.kind, scope.tab, signal);
      const shown = all.slice(-(args.limit ?? 50));
      const text = shown.map(logLine).join('\n');
      const c = clip(text, { budget: BUDGET_CHARS - 300, head: 0 });
      const head = `${all.length} ${args.kind} entr${all.length === 1 ? 'y' : 'ies'}${all.length > shown.length ? `, last ${shown.length} shown (limit raises)` : ''}`;
      return ok(all.length ? `${head}\n${c.text}` : `no ${args.kind} entries`, { count: all.length, shown: shown.length });
    },
  }),
];
