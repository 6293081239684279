import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { parseConfig } from '../../src/config.js';
import { annotationsFor, defineTool } from '../../src/mcp/define-tool.js';
import { ConfigError, selectTools } from '../../src/mcp/registry.js';
import { clip, enforceBudget, errorResult, ok } from '../../src/mcp/result.js';

const t = (name: string, toolset: string, kind: 'read' | 'write' | 'destructive') =>
  defineTool({ name, title: name, description: name, toolset, kind, input: z.object({}), handler: async () => ok('') });
const ALL = [t('a_read', 'x', 'read'), t('a_write', 'x', 'write'), t('b_del', 'y', 'destructive')];
const SETS = ['x', 'y', 'later'].map((id) => ({ id, description: id, default: id !== 'y' }));

describe('registry', () => {
  it('selects by toolset, tools, exclude and read-only', () => {
    const names = (sel: Parameters<typeof selectTools>[1]) => selectTools(ALL, sel, SETS).map((x) => x.name);
    expect(names({ toolsets: ['x'] })).toEqual(['a_read', 'a_write']);
    expect(names({ toolsets: ['all'] })).toEqual(['a_read', 'a_write', 'b_del']);
    expect(names({ toolsets: ['all'], readOnly: true })).toEqual(['a_read']);
    expect(names({ toolsets: ['x'], excludeTools: ['a_write'] })).toEqual(['a_read']);
    expect(names({ toolsets: ['x'], tools: ['b_del'] })).toEqual(['b_del']);
  });
  it('fails on unknown names', () => {
    expect(() => selectTools(ALL, { toolsets: ['nope'] }, SETS)).toThrow(ConfigError);
    expect(() => selectTools(ALL, { toolsets: ['x'], tools: ['nope'] }, SETS)).toThrow(/unknown tool "nope"/);
    expect(selectTools(ALL, { toolsets: ['later'] }, SETS)).toEqual([]);
    expect(() => selectTools([t('z', 'undeclared', 'read')], { toolsets: ['all'] }, SETS)).toThrow(/not declared/);
  });
  it('derives annotations from kind', () => {
    expect(annotationsFor({ kind: 'read' })).toEqual({ readOnlyHint: true });
    expect(annotationsFor({ kind: 'write' })).toEqual({ destructiveHint: false });
    expect(annotationsFor({ kind: 'write', idempotent: true })).toEqual({ destructiveHint: false, idempotentHint: true });
    expect(annotationsFor({ kind: 'destructive' })).toEqual({ destructiveHint: true });
  });
});

describe('budget', () => {
  it('keeps head and tail and says what was cut and where the rest is', () => {
    const text = Array.from({ length: 20_000 }, (_, i) => `line ${i}`).join('\n');
    const c = clip(text, { budget: 2000, more: 'full: hoody://x' });
    expect(c.text.length).toBeLessThanOrEqual(2000);
    expect(c.text.startsWith('line 0\n')).toBe(true);
    expect(c.text.endsWith('line 19999')).toBe(true);
    expect(c.text).toMatch(/\[\d+ of \d+ characters \(\d+ lines\) cut; full: hoody:\/\/x\]/);
    expect(c.cut).toBe(text.length - c.text.length + c.text.match(/\n\.\.\. \[.*\] \.\.\.\n/)![0].length);
  });
  it('leaves short text alone', () => {
    expect(clip('abc').text).toBe('abc');
  });
  it('enforces the budget on any result', () => {
    const r = enforceBudget(ok('x'.repeat(100_000)));
    expect((r.content[0] as { text: string }).text.length).toBeLessThanOrEqual(33_000);
  });
  it('turns errors into isError with the hint and no stack', () => {
    const r = errorResult(Object.assign(new Error('container web is stopped'), { hint: 'call container_action start' }));
    expect(r).toEqual({ isError: true, content: [{ type: 'text', text: 'container web is stopped — call container_action start' }] });
  });
});

describe('config', () => {
  it('flag beats env; booleans and lists', () => {
    const c = parseConfig(['--container', 'web', '--read-only', '--tools=file_read,file_list'], {
      HOODY_CONTAINER: 'db',
      HOODY_READ_ONLY: 'no',
      HOODY_TOOLSETS: 'containers, files',
      HOODY_SIM: 'yes',
    });
    expect(c.container).toBe('web');
    expect(c.readOnly).toBe(true);
    expect(c.tools).toEqual(['file_read', 'file_list']);
    expect(c.toolsets).toEqual(['containers', 'files']);
    expect(c.sim).toBe(true);
  });
  it('rejects bad input with a clear message', () => {
    expect(() => parseConfig(['--bogus'], {})).toThrow(/unknown argument "--bogus"/);
    expect(() => parseConfig(['--port', 'x'], {})).toThrow(/not a port/);
    expect(() => parseConfig([], { HOODY_READ_ONLY: 'maybe' })).toThrow(/not a boolean/);
    expect(() => parseConfig(['--api-url', 'ftp://x'], {})).toThrow(/not an http/);
    expect(() => parseConfig(['--token'], {})).toThrow(/needs a value/);
  });
});
