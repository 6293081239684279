/**
 * Which tools a server offers: toolsets, --tools / --exclude-tools, --read-only.
 * Unknown names are configuration errors, raised at start.
 */
import type { AnyTool } from './define-tool.js';

export interface Selection {
  /** Toolset names; 'all' selects every toolset. */
  toolsets: string[];
  tools?: string[];
  excludeTools?: string[];
  readOnly?: boolean;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** `knownToolsets` names toolsets that are valid even when none of their tools is registered yet. */
export function selectTools<T extends AnyTool>(all: readonly T[], sel: Selection, knownToolsets: readonly string[] = []): T[] {
  const known = new Set(all.map((t) => t.name));
  const sets = new Set([...knownToolsets, ...all.map((t) => t.toolset)]);
  for (const s of sel.toolsets) {
    if (s !== 'all' && !sets.has(s)) throw new ConfigError(`unknown toolset "${s}" (known: ${[...sets].join(', ')}, all)`);
  }
  for (const n of [...(sel.tools ?? []), ...(sel.excludeTools ?? [])]) {
    if (!known.has(n)) throw new ConfigError(`unknown tool "${n}"`);
  }
  const everySet = sel.toolsets.includes('all');
  const explicit = new Set(sel.tools ?? []);
  const excluded = new Set(sel.excludeTools ?? []);
  return all.filter((t) => {
    if (excluded.has(t.name)) return false;
    if (sel.readOnly && t.kind !== 'read' && !t.readOnlyVariant) return false;
    if (explicit.size) return explicit.has(t.name);
    return everySet || sel.toolsets.includes(t.toolset);
  });
}

