/**
 * A tiny route table. Patterns are literal paths with `:name` segments (`/api/v1/containers/:id`);
 * a trailing slash is significant, as on Hoody's Fastify-style router [seed-api §8.1].
 * A pattern ending in `*` matches the rest of the path (captured as `params.rest`, keeping its
 * leading `/`).
 */
export type Params = Record<string, string>;

export interface Route<C> {
  method: string | string[];
  pattern: string;
  handler: (ctx: C, params: Params) => Promise<void> | void;
}

interface Compiled<C> {
  methods: string[];
  re: RegExp;
  names: string[];
  handler: Route<C>['handler'];
}

function compile(pattern: string): { re: RegExp; names: string[] } {
  const names: string[] = [];
  let src = '';
  let rest = pattern;
  let wildcard = false;
  if (rest.endsWith('*')) {
    wildcard = true;
    rest = rest.slice(0, -1);
  }
  for (const part of rest.split(/(:[A-Za-z_]+)/)) {
    if (part.startsWith(':')) {
      names.push(part.slice(1));
      src += '([^/]+)';
    } else {
      src += part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  if (wildcard) {
    names.push('rest');
    src += '(.*)';
  }
  return { re: new RegExp(`^${src}$`), names };
}

export type Match<C> =
  | { kind: 'ok'; handler: Route<C>['handler']; params: Params }
  | { kind: 'method'; allowed: string[] }
  | { kind: 'none' };

export class Router<C> {
  private readonly routes: Compiled<C>[] = [];

  constructor(routes: Route<C>[] = []) {
    for (const r of routes) this.add(r);
  }

  add(route: Route<C>): this {
    const { re, names } = compile(route.pattern);
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).map((m) => m.toUpperCase());
    this.routes.push({ methods, re, names, handler: route.handler });
    return this;
  }

  match(method: string, path: string): Match<C> {
    const allowed: string[] = [];
    for (const r of this.routes) {
      const m = r.re.exec(path);
      if (!m) continue;
      if (!r.methods.includes(method) && !r.methods.includes('*')) {
        allowed.push(...r.methods);
        continue;
      }
      const params: Params = {};
      r.names.forEach((n, i) => {
        const raw = m[i + 1] ?? '';
        params[n] = n === 'rest' ? raw : safeDecode(raw);
      });
      return { kind: 'ok', handler: r.handler, params };
    }
    return allowed.length ? { kind: 'method', allowed } : { kind: 'none' };
  }
}

export function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
