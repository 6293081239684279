import * as z from 'zod';
import { DESKTOP_DISPLAY } from '../src/core/kits/display.js';
import type { Frame } from '../src/core/displays.js';
import { defineScope } from '../src/mcp/define-tool.js';
import { describeImage, pixelChange, scaleImage, toOriginal } from '../src/mcp/image.js';
import { fail, ok, reply } from '../src/mcp/result.js';
import { container, tool, type Deps } from './common.js';

const display = z.number().int().min(1).max(999_999).optional().describe(`Default ${DESKTOP_DISPLAY}: the desktop`);

/** Tools that work on one display of one container. */
const onDisplay = defineScope<Deps, { id: string; display: number }>({
  name: 'display',
  args: { container, display },
  resolve: async (args, deps, signal) => ({ id: await deps.containerId(args.container as string | undefined, signal), display: (args.display as number | undefined) ?? DESKTOP_DISPLAY }),
});

const px = z.number().int().min(0);

/** Take a screenshot (of a canvas region or all of it), scale it for the model, remember its frame. */
async function shoot(deps: Deps, id: string, display: number, region: { x: number; y: number; width: number; height: number } | undefined, format: 'jpeg' | 'png' | undefined, signal: AbortSignal) {
  const d = deps.displays;
  const png = region ? await d.region(id, display, region, signal) : await d.screenshot(id, display, signal);
  const img = await scaleImage(png, { format, signal });
  const canvas = region ? await d.canvas(id, display, signal) : { width: img.original.width, height: img.original.height };
  const frame = d.addFrame({ container: id, display, width: img.width, height: img.height, original: canvas, crop: region ? { ...region, width: img.original.width, height: img.original.height } : undefined, scale: img.scale });
  return { img, frame };
}

/** A point of a frame's image → the X canvas. */
function toCanvas(f: Frame, x: number, y: number): { x: number; y: number } {
  const crop = f.crop ?? { x: 0, y: 0, width: f.original.width, height: f.original.height };
  const p = toOriginal({ width: f.width, height: f.height, original: { width: crop.width, height: crop.height } }, x, y);
  return { x: crop.x + p.x, y: crop.y + p.y };
}

const ACTIONS = ['click', 'double_click', 'right_click', 'move', 'drag', 'type', 'key', 'scroll'] as const;
const POINTED = new Set(['click', 'double_click', 'right_click', 'move', 'drag']);

export const displayTools = [
  tool({
    name: 'display_screenshot',
    title: 'Screenshot display',
    description: 'Screenshot a display (desktop): a scaled image and its frame id for display_act.',
    toolset: 'display',
    kind: 'read',
    scope: onDisplay,
    input: z.object({
      region: z.object({ x: px, y: px, width: px, height: px }).optional().describe('Canvas pixels (default: all)'),
      format: z.enum(['jpeg', 'png']).optional(),
    }),
    async handler(args, { deps, signal, scope }) {
      const { img, frame } = await shoot(deps, scope.id, scope.display, args.region, args.format, signal);
      const of = frame.crop ? ` of ${frame.crop.width}×${frame.crop.height}+${frame.crop.x}+${frame.crop.y}` : '';
      return reply()
        .image(img)
        .text(`frame ${frame.id} · display ${scope.display} ${frame.original.width}×${frame.original.height}${of} · ${describeImage(img)}`)
        .structured({ frame: frame.id, display: scope.display, width: img.width, height: img.height, scale: Number(img.scale.toFixed(4)) });
    },
  }),

  tool({
    name: 'display_act',
    title: 'Act on display',
    description:
      'Mouse/keyboard input on a display. x,y (to_x,to_y: drag end) are pixels of a display_screenshot image (frame, default: the last). type/key/scroll click x,y first if given. Says if pixels near the point changed.',
    toolset: 'display',
    kind: 'write',
    scope: onDisplay,
    input: z.object({
      action: z.enum(ACTIONS),
      frame: z.string().max(20).optional(),
      x: px.optional(),
      y: px.optional(),
      to_x: px.optional(),
      to_y: px.optional(),
      text: z.string().min(1).max(10_000).optional(),
      keys: z.array(z.string()).min(1).max(20).optional().describe('e.g. ["ctrl+c"], ["Enter"]'),
      direction: z.enum(['up', 'down', 'left', 'right']).optional(),
      amount: z.number().int().min(1).max(100).optional().describe('Scroll clicks (default 5)'),
    }),
    async handler(args, { deps, signal, scope }) {
      const { action } = args;
      const has = args.x !== undefined || args.y !== undefined;
      if (has && (args.x === undefined || args.y === undefined)) return fail('pass both x and y');
      if (POINTED.has(action) && !has) return fail(`${action} needs x and y`, 'pixels of the last display_screenshot image');
      if (action === 'drag' && (args.to_x === undefined || args.to_y === undefined)) return fail('drag needs to_x and to_y');
      if (action === 'type' && !args.text) return fail('type needs text');
      if (action === 'key' && !args.keys) return fail('key needs keys, e.g. ["ctrl+c"]');
      let point: { x: number; y: number } | undefined;
      let to: { x: number; y: number } | undefined;
      if (has) {
        const f = await deps.displays.frame(scope.id, scope.display, args.frame, signal);
        for (const [x, y] of [[args.x!, args.y!], ...(action === 'drag' ? [[args.to_x!, args.to_y!]] : [])] as [number, number][]) {
          if (x >= f.width || y >= f.height) return fail(`(${x},${y}) is outside frame ${f.id} (${f.width}×${f.height})`, 'use pixels of that image');
        }
        point = toCanvas(f, args.x!, args.y!);
        if (action === 'drag') to = toCanvas(f, args.to_x!, args.to_y!);
      }
      const r = await deps.displays.act(scope.id, scope.display, { action, point, to, text: args.text, keys: args.keys, direction: args.direction, amount: args.amount }, signal);
      const share = r.before && r.after ? await pixelChange(r.before, r.after) : 0;
      const changed = share > 0;
      const where = point ? ` at (${args.x},${args.y}) → canvas (${point.x},${point.y})${to ? ` to (${to.x},${to.y})` : ''}` : '';
      const seen = `${r.compared === 'around' ? 'pixels around the point' : 'screen'} ${changed ? `changed (${Math.max(1, Math.round(share * 100))}%)` : 'unchanged'}`;
      return ok(`${action}${where} · ${seen}`, { action, changed, ...(point ? { canvas_x: point.x, canvas_y: point.y } : {}) });
    },
  }),

  tool({
    name: 'display_windows',
    title: 'Display windows',
    description: 'List a display\'s windows (id, name, canvas geometry, focus), or focus/close one.',
    toolset: 'display',
    kind: 'write',
    actions: { arg: 'action', kinds: { list: 'read', focus: 'write', close: 'write' } },
    scope: onDisplay,
    input: z.object({ action: z.enum(['list', 'focus', 'close']), window: z.number().int().min(1).optional().describe('Window id') }),
    async handler(args, { deps, signal, scope }) {
      const { id, display: d } = scope;
      if (args.action !== 'list') {
        if (args.window === undefined) return fail(`${args.action} needs window`, 'ids come from action list');
        await deps.displays.window(id, d, args.action, args.window, signal);
      }
      const list = await deps.displays.windows(id, d, signal);
      const rows = list.map((w) => `${w.id}${w.focused ? '*' : ''}  ${w.width}×${w.height}+${w.x}+${w.y}  ${JSON.stringify(w.name.slice(0, 120))}${w.class ? ` (${w.class.slice(0, 40)})` : ''}`);
      const head = args.action === 'list' ? `${list.length} windows on display ${d}` : `${args.action === 'focus' ? 'focused' : 'closed'} ${args.window}; ${list.length} windows on display ${d}`;
      return reply()
        .text(rows.length ? `${head} (* focused):\n${rows.join('\n')}` : head, { more: 'the list is cut' })
        .structured({ display: d, windows: list.length });
    },
  }),
];
