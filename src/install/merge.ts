/**
 * Merge one server entry into a client's configuration text, touching nothing else:
 * JSON/JSONC through jsonc-parser's edits (comments and formatting kept), TOML by replacing only
 * the entry's own tables and checking, by parsing before and after, that nothing else changed.
 */
import { isDeepStrictEqual } from 'node:util';
import { applyEdits, modify, parse, printParseErrorCode, type ParseError } from 'jsonc-parser/lib/esm/main.js';
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';

export class InstallError extends Error {}

export interface Merged {
  text: string;
  changed: boolean;
  /** an entry of that name was there before (and differed) */
  replaced: boolean;
}

function getAt(obj: unknown, path: string[]): unknown {
  let cur = obj;
  for (const k of path) {
    if (cur === undefined || cur === null) return undefined;
    if (typeof cur !== 'object' || Array.isArray(cur)) throw new InstallError(`"${path.join('.')}" is not an object in the file; fix it by hand`);
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

export function mergeJson(text: string, at: string[], name: string, entry: unknown, file: string): Merged {
  const errors: ParseError[] = [];
  const doc = text.trim() ? parse(text, errors, { allowTrailingComma: true }) : {};
  if (errors.length) {
    const e = errors[0]!;
    throw new InstallError(`${file} is not valid JSON (${printParseErrorCode(e.error)} at offset ${e.offset}); fix it or use --print`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new InstallError(`${file} does not hold a JSON object; fix it or use --print`);
  const servers = getAt(doc, at);
  if (servers !== undefined && (typeof servers !== 'object' || servers === null || Array.isArray(servers)))
    throw new InstallError(`"${at.join('.')}" in ${file} is not an object; fix it by hand`);
  const before = (servers as Record<string, unknown> | undefined)?.[name];
  if (isDeepStrictEqual(before, entry)) return { text, changed: false, replaced: false };
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indent = /^( +|\t)"/m.exec(text)?.[1] ?? '  ';
  const base = text.trim() ? text : '{}';
  const edits = modify(base, [...at, name], entry, { formattingOptions: { insertSpaces: !indent.startsWith('\t'), tabSize: indent.length, eol } });
  let out = applyEdits(base, edits);
  if (!out.endsWith(eol)) out += eol;
  return { text: out, changed: true, replaced: before !== undefined };
}

const bareKey = /^[A-Za-z0-9_-]+$/;

/** Is this line a table header for mcp_servers.<name> (or one of its sub-tables)? */
function isOwnHeader(line: string, name: string): boolean {
  const m = /^\s*\[\s*mcp_servers\s*\.\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*(\.[^\]]*)?\]\s*(#.*)?$/.exec(line);
  if (!m) return false;
  const key = m[1]!.startsWith('"') ? (JSON.parse(m[1]!) as string) : m[1]!.replace(/^'|'$/g, '');
  return key === name;
}

/** smol-toml's tables have no prototype; compare plain JSON values. */
const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as Record<string, unknown>;

export function tomlBlock(name: string, entry: Record<string, unknown>): string {
  if (!bareKey.test(name)) throw new InstallError(`server name "${name}" must be letters, digits, "-" or "_"`);
  return stringifyToml({ mcp_servers: { [name]: entry } }).trim();
}

export function mergeToml(text: string, name: string, entry: Record<string, unknown>, file: string): Merged {
  let doc: Record<string, unknown>;
  try {
    doc = plain(parseToml(text));
  } catch (err) {
    throw new InstallError(`${file} is not valid TOML (${(err as Error).message.split('\n')[0]}); fix it or use --print`);
  }
  const servers = (doc.mcp_servers ?? {}) as Record<string, unknown>;
  const before = servers[name];
  if (isDeepStrictEqual(before, entry)) return { text, changed: false, replaced: false };
  const lines = text.split(/\r?\n/);
  const kept: string[] = [];
  let skipping = false;
  for (const line of lines) {
    if (/^\s*\[/.test(line)) skipping = isOwnHeader(line, name);
    if (!skipping) kept.push(line);
  }
  while (kept.length && !kept[kept.length - 1]!.trim()) kept.pop();
  const out = `${kept.length ? `${kept.join('\n')}\n\n` : ''}${tomlBlock(name, entry)}\n`;
  // Prove that only our entry changed: parse both and compare everything else.
  let after: Record<string, unknown>;
  try {
    after = plain(parseToml(out));
  } catch {
    throw new InstallError(`${file} defines mcp_servers.${name} in a form this installer does not edit; remove it by hand and rerun`);
  }
  const strip = (d: Record<string, unknown>) => {
    const { mcp_servers: ms, ...rest } = d;
    const { [name]: _, ...others } = (ms ?? {}) as Record<string, unknown>;
    return { rest, others };
  };
  const ok = isDeepStrictEqual(strip(doc), strip(after)) && isDeepStrictEqual((after.mcp_servers as Record<string, unknown>)[name], entry);
  if (!ok) throw new InstallError(`${file} defines mcp_servers.${name} in a form this installer does not edit; remove it by hand and rerun`);
  return { text: out, changed: true, replaced: before !== undefined };
}
