/**
 * Safe edits over the files kit, which has no compare-and-swap: an exact-string replace that is
 * refused when the text is missing or ambiguous, when the file changed since this principal last
 * read or wrote it (its content hash when the whole file was read or written here, else its
 * size/mtime), and when it changed between this edit's read and its write (sha256 re-check just
 * before the PUT). An edit costs three requests: GET, the hash check, PUT.
 */
import { createHash } from 'node:crypto';
import { HoodyError, type NextStep } from './errors.js';
import type { Fetched, FileStat, FilesKit } from './kits/files.js';

/**
 * What a file was when last read or written here: its content hash, or (partial reads) its stat.
 * A content mark holds the bytes until they are hashed: right after the reply is on its way
 * (setImmediate), or when an edit needs the hash first, whichever comes sooner.
 */
interface Mark {
  sha256?: string;
  content?: Buffer;
  mtimeMs?: number;
  size?: number;
}

function hashed(mark: Mark): Mark {
  if (mark.content) {
    mark.sha256 = sha256(mark.content);
    mark.content = undefined;
  }
  return mark;
}

/** Largest file an edit downloads. */
const MAX_EDIT_BYTES = 64 * 1024 * 1024;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface MarkStore {
  get(key: string): Mark | undefined;
  set(key: string, v: Mark): void;
  delete(key: string): void;
}

export interface EditResult {
  before: string;
  after: string;
  replacements: number;
}

function countOf(haystack: string, needle: string): number {
  let n = 0;
  for (let i = haystack.indexOf(needle); i !== -1; i = haystack.indexOf(needle, i + needle.length)) n++;
  return n;
}

export class FileEdits {
  constructor(
    private readonly files: FilesKit,
    private readonly marks: MarkStore,
  ) {}

  #key(containerId: string, path: string) {
    return `${containerId}:${path}`;
  }

  async statOrFail(containerId: string, path: string, signal?: AbortSignal): Promise<FileStat> {
    const s = await this.files.stat(containerId, path, signal);
    if (!s) throw new HoodyError({ kind: 'not_found', source: 'files', message: `${path} does not exist`, next: { code: 'list_dir', path } });
    return s;
  }

  /** One GET (see FilesKit.fetchFile); a missing path is an error that says where to look. */
  async fetch(containerId: string, path: string, max: number, signal?: AbortSignal): Promise<Fetched> {
    const f = await this.files.fetchFile(containerId, path, max, signal);
    if (!f) throw new HoodyError({ kind: 'not_found', source: 'files', message: `${path} does not exist`, next: { code: 'list_dir', path } });
    return f;
  }

  /**
   * Remember a file's whole content as read or written here (no request). Hashed off the
   * reply's path (~50 µs for 64 KB): the bytes are kept only until then.
   */
  markContent(containerId: string, path: string, bytes: Buffer): void {
    const mark: Mark = { content: bytes };
    this.marks.set(this.#key(containerId, path), mark);
    setImmediate(() => hashed(mark));
  }

  /** Remember what a file looked like (stat) when it was last read or written here. */
  async mark(containerId: string, path: string, signal?: AbortSignal, known?: FileStat): Promise<void> {
    const s = known ?? (await this.files.stat(containerId, path, signal).catch(() => undefined));
    if (s) this.marks.set(this.#key(containerId, path), { mtimeMs: s.mtimeMs, size: s.size });
  }

  /** Did the file change since it was marked? By content when the mark has it, else by a stat (ms mtime). */
  async #changedSinceMark(containerId: string, path: string, digest: string, signal?: AbortSignal): Promise<boolean> {
    const seen = this.marks.get(this.#key(containerId, path));
    if (!seen) return false;
    if (hashed(seen).sha256) return seen.sha256 !== digest;
    const s = await this.statOrFail(containerId, path, signal);
    return seen.size !== s.size || (seen.mtimeMs !== undefined && s.mtimeMs !== undefined && seen.mtimeMs !== s.mtimeMs);
  }

  forget(containerId: string, path: string): void {
    this.marks.delete(this.#key(containerId, path));
  }

  async replace(
    containerId: string,
    path: string,
    oldString: string,
    newString: string,
    replaceAll: boolean,
    signal?: AbortSignal,
  ): Promise<EditResult> {
    const refuse = (message: string, next: NextStep) => new HoodyError({ kind: 'conflict', source: 'files', message: `${message}; nothing written`, next });
    if (oldString === newString) throw new HoodyError({ kind: 'bad_request', source: 'files', message: 'old_string and new_string are the same', hint: 'nothing to change' });
    const f = await this.fetch(containerId, path, MAX_EDIT_BYTES, signal);
    if (f.type === 'dir') throw new HoodyError({ kind: 'bad_request', source: 'files', message: `${path} is a directory`, hint: 'only files can be edited' });
    if (!f.bytes) throw new HoodyError({ kind: 'bad_request', source: 'files', message: `${path} is ${f.size} bytes: too large to edit here`, hint: 'edit it with a command' });
    const digest = sha256(f.bytes);
    if (await this.#changedSinceMark(containerId, path, digest, signal)) throw refuse(`${path} changed since you last read it`, { code: 'reread_file', path });
    const before = f.bytes.toString('utf8');
    const n = countOf(before, oldString);
    if (n === 0) throw refuse(`old_string not found in ${path}`, { code: 'copy_exact', path });
    if (n > 1 && !replaceAll) throw refuse(`old_string occurs ${n} times in ${path}`, { code: 'widen_match', count: n });
    const after = replaceAll ? before.split(oldString).join(newString) : before.replace(oldString, () => newString);
    if ((await this.files.sha256(containerId, path, signal)) !== digest) {
      throw refuse(`${path} changed while it was being edited`, { code: 'reread_file', path });
    }
    const written = Buffer.from(after, 'utf8');
    await this.files.write(containerId, path, written, { signal });
    this.markContent(containerId, path, written);
    return { before, after, replacements: n };
  }
}
