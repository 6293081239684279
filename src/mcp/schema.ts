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

export function clientSchema(schema: z.ZodObject): StandardSchemaWithJSON {
  const strict = schema.strict();
  const std = strict['~standard'] as unknown as StandardSchemaWithJSON['~standard'];
  return {
    '~standard': {
      ...std,
      jsonSchema: {
        input: (opts) => compact(std.jsonSchema.input(opts)) as Record<string, unknown>,
        output: (opts) => compact(std.jsonSchema.output(opts)) as Record<string, unknown>,
      },
    },
  } as StandardSchemaWithJSON;
}
