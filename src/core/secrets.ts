/**
 * What must never reach a model, a log or an error: this principal's token, the container claims
 * it minted, values a caller marked secret (a command's secret environment), anything shaped like a Hoody
 * token or JWT, and kit URLs (capabilities by themselves) — kept only where a result exists to
 * show a link. The shell asks `scrub` at its boundary; it knows nothing of what is redacted.
 */

const HIDDEN = '[redacted]';
const KIT_HIDDEN = '[kit URL hidden]';
/** Shapes of credentials, whoever's they are. */
// Each with the literal it starts with: a text without it is not scanned (a 32 KB read pays ~1 µs, not ~25).
const SHAPES: [string, RegExp][] = [
  ['hdy_', /\bhdy_[A-Za-z0-9_-]{8,}/g],
  ['eyJ', /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}/g],
];
const MAX_VALUES = 512;
/** Values shorter than this cannot be redacted without mangling ordinary output. */
export const MIN_SECRET_CHARS = 4;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class Secrets {
  readonly #values = new Set<string>();
  readonly #kitUrl?: RegExp;
  readonly #kitHost?: RegExp;
  /** The containers domain, which every kit URL and host contains: a text without it is not scanned (the host pattern costs ~0.5 ms on 32 KB). */
  readonly #domain?: RegExp;

  /** `containersDomain`: e.g. containers.hoody.icu (kit hosts are `{project}-{id}-{slug}.{server}.<it>`). */
  constructor(containersDomain?: string) {
    if (containersDomain) {
      // User-service hosts (`…-http-8080.…`, `…-https-8443.…`) are meant to be shared [S:344]: not hidden.
      const host = `[0-9a-f]{24}-[0-9a-f]{24}-(?!https?-\\d+\\.)[a-z0-9-]+\\.[a-z0-9-]+\\.${escape(containersDomain)}(?::\\d+)?`;
      this.#kitUrl = new RegExp(`\\b(?:https?|wss?)://${host}[^\\s"'<>)\\]]*`, 'gi');
      this.#kitHost = new RegExp(host, 'gi');
      this.#domain = new RegExp(escape(containersDomain), 'i');
    }
  }

  /** Redact this value from now on (the oldest is forgotten past a bound). */
  add(value: string | undefined): void {
    if (!value || value.length < MIN_SECRET_CHARS) return;
    this.#values.delete(value);
    this.#values.add(value);
    if (this.#values.size > MAX_VALUES) this.#values.delete(this.#values.values().next().value!);
  }

  scrub(text: string, opts: { keepLinks?: boolean } = {}): string {
    let out = text;
    // Longest first, so a secret containing another is hidden whole.
    for (const v of [...this.#values].sort((a, b) => b.length - a.length)) if (out.includes(v)) out = out.split(v).join(HIDDEN);
    for (const [literal, re] of SHAPES) if (out.includes(literal)) out = out.replace(re, HIDDEN);
    if (!opts.keepLinks && this.#kitUrl && this.#kitHost && this.#domain!.test(out)) out = out.replace(this.#kitUrl, KIT_HIDDEN).replace(this.#kitHost, KIT_HIDDEN);
    return out;
  }
}
