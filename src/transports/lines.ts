/**
 * The stdio wire, read safely: newline-delimited JSON-RPC with a bound on one message's bytes.
 * An oversize message is skipped to its newline (never buffered whole) and answered with an
 * error carrying its id when the id can be read from its head; a message with a bad shape that
 * names an id is answered instead of dropped. Nothing after either is lost.
 */

export type Inbound =
  | { kind: 'message'; message: Record<string, unknown> }
  | { kind: 'error'; id: string | number | null; code: number; message: string }
  | { kind: 'ignore' };

/** Bytes of an oversize message kept to find its id. */
const HEAD_BYTES = 64 * 1024;

export class LineReader {
  #parts: Buffer[] = [];
  #size = 0;
  #discarding = false;
  #head = '';

  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOversize: (head: string, bytes: number) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.#take(chunk.subarray(start, nl));
      this.#end();
      start = nl + 1;
    }
    if (start < chunk.length) this.#take(chunk.subarray(start));
  }

  #take(part: Buffer): void {
    if (!part.length) return;
    if (!this.#discarding && this.#size + part.length > this.maxBytes) {
      this.#discarding = true;
      this.#head = Buffer.concat(this.#parts).subarray(0, HEAD_BYTES).toString('utf8');
      if (this.#head.length < HEAD_BYTES) this.#head += part.subarray(0, HEAD_BYTES - this.#head.length).toString('utf8');
      this.#parts = [];
    }
    this.#size += part.length;
    if (!this.#discarding) this.#parts.push(part);
  }

  #end(): void {
    if (this.#discarding) this.onOversize(this.#head, this.#size);
    else if (this.#size) this.onLine(Buffer.concat(this.#parts).toString('utf8'));
    this.#parts = [];
    this.#size = 0;
    this.#discarding = false;
    this.#head = '';
  }
}

type Id = string | number;
const isId = (v: unknown): v is Id => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));

/** The top-level `"id"` of a JSON object's first bytes (a string or number), if it is there. */
export function idFromHead(head: string): Id | undefined {
  let depth = 0;
  for (let i = 0; i < head.length; i++) {
    const ch = head[i];
    if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') depth--;
    else if (ch === '"') {
      const str = /^"(?:[^"\\]|\\.)*"/.exec(head.slice(i, i + 4096));
      if (!str) return undefined;
      i += str[0].length - 1;
      if (depth !== 1 || str[0] !== '"id"') continue;
      const value = /^\s*:\s*("(?:[^"\\]|\\.){0,256}"|-?\d{1,16})\s*[,}]/.exec(head.slice(i + 1, i + 300));
      if (!value) return undefined;
      const parsed: unknown = JSON.parse(value[1]!);
      return isId(parsed) ? parsed : undefined;
    }
  }
  return undefined;
}

const INVALID_REQUEST = -32600;
const INVALID_PARAMS = -32602;

/** One line → a message to dispatch, an error to answer, or nothing (a malformed notification). */
export function inspect(line: string): Inbound {
  if (!line.trim()) return { kind: 'ignore' };
  let m: unknown;
  try {
    m = JSON.parse(line);
  } catch {
    return { kind: 'error', id: null, code: -32700, message: 'Parse error: the message is not JSON' };
  }
  if (!m || typeof m !== 'object' || Array.isArray(m)) {
    return { kind: 'error', id: null, code: INVALID_REQUEST, message: 'Invalid request: send one JSON-RPC object per line (no batches)' };
  }
  const msg = m as Record<string, unknown>;
  const id = isId(msg.id) ? msg.id : undefined;
  const answer = (code: number, message: string): Inbound => (id !== undefined || msg.id === null ? { kind: 'error', id: id ?? null, code, message } : { kind: 'ignore' });
  if (msg.jsonrpc !== '2.0') return answer(INVALID_REQUEST, 'Invalid request: jsonrpc must be "2.0"');
  if ('id' in msg && id === undefined) return answer(INVALID_REQUEST, 'Invalid request: id must be a string or a number');
  if (typeof msg.method !== 'string') {
    const response = id !== undefined && ('result' in msg || 'error' in msg);
    return response ? { kind: 'message', message: msg } : answer(INVALID_REQUEST, 'Invalid request: method must be a string');
  }
  if ('params' in msg && (typeof msg.params !== 'object' || msg.params === null || Array.isArray(msg.params))) {
    return answer(INVALID_PARAMS, `Invalid params: params of ${msg.method.slice(0, 60)} must be an object`);
  }
  return { kind: 'message', message: msg };
}

const size = (n: number) => (n >= 1024 * 1024 ? `${+(n / 1024 / 1024).toFixed(1)} MiB` : `${+(n / 1024).toFixed(1)} KiB`);

/** "X is over the N MiB limit (--flag / ENV raises it)": every size refusal names its limit. */
export function overLimit(what: string, limit: number, flag: string, env: string): string {
  return `${what} is over the ${size(limit)} limit (${flag} / ${env} raises it)`;
}
