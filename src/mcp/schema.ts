/**
 * Input schemas as clients see them: strict (unknown keys are refused, not silently dropped, so a
 * misspelt argument is reported) and compact (no `$schema` line, no ±2^53 integer bounds zod
 * adds) — tools/list is paid for in every model context.
 */
import type { StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import type * as z from 'zod';

const SAFE = Number.MAX_SAFE_INTEGER;

function compact(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(compact);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$schema') continue;
    if ((k === 'maximum' && v === SAFE) || (k === 'minimum' && v === -SAFE)) continue;
    out[k] = compact(v);
  }
  return out;
}

type Convert = StandardSchemaWithJSON['~standard']['jsonSchema']['input'];

/** A conversion made once per target (the SDK makes it for every tools/list and, on 2026-07-28, every tools/call). */
function once(convert: Convert): Convert {
  const made = new Map<string, Record<string, unknown>>();
  return (opts) => {
    const key = opts?.libraryOptions ? undefined : String(opts?.target);
    if (key === undefined) return compact(convert(opts)) as Record<string, unknown>;
    let json = made.get(key);
    if (!json) made.set(key, (json = compact(convert(opts)) as Record<string, unknown>));
    return json;
  };
}

export function clientSchema(schema: z.ZodObject): StandardSchemaWithJSON {
  const strict = schema.strict();
  const std = strict['~standard'] as unknown as StandardSchemaWithJSON['~standard'];
  return {
    '~standard': {
      ...std,
      jsonSchema: { input: once((opts) => std.jsonSchema.input(opts)), output: once((opts) => std.jsonSchema.output(opts)) },
    },
  } as StandardSchemaWithJSON;
}
