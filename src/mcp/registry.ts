/**
 * Which tools a server offers: toolsets, --tools / --exclude-tools, --read-only.
 * Unknown names are configuration errors, raised at start.
 */
import { readOnlyView, type AnyTool } from './define-tool.js';

/** A group of tools, as --toolsets, --help, the README and the server instructions name it. */
export interface Toolset {
  id: string;
  /** One line: what the toolset's tools do. */
  description: string;
  /** Offered without --toolsets. */
  default: boolean;
}

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

export const defaultToolsets = (sets: readonly Toolset[]) => sets.filter((s) => s.default).map((s) => s.id);

/** The tools a selection offers (read-only views under --read-only); unknown names throw ConfigError. */
export function selectTools<T extends AnyTool>(all: readonly T[], sel: Selection, toolsets: readonly Toolset[]): T[] {
  const known = new Set(all.map((t) => t.name));
  const sets = new Set(toolsets.map((s) => s.id));
  for (const t of all) if (!sets.has(t.toolset)) throw new Error(`tool ${t.name}: toolset ${t.toolset} is not declared`);
  for (const s of sel.toolsets) {
    if (s !== 'all' && !sets.has(s)) throw new ConfigError(`unknown toolset "${s}" (known: ${[...sets].join(', ')}, all)`);
  }
  for (const n of [...(sel.tools ?? []), ...(sel.excludeTools ?? [])]) {
    if (!known.has(n)) throw new ConfigError(`unknown tool "${n}"`);
  }
  const everySet = sel.toolsets.includes('all');
  const explicit = new Set(sel.tools ?? []);
  const excluded = new Set(sel.excludeTools ?? []);
  const chosen = all.filter((t) => {
    if (excluded.has(t.name)) return false;
    if (explicit.size) return explicit.has(t.name);
    return everySet || sel.toolsets.includes(t.toolset);
  });
  return sel.readOnly ? chosen.flatMap((t) => readOnlyView(t) ?? []) : chosen;
}
