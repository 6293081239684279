/**
 * Safe edits over the files kit, which has no compare-and-swap: an exact-string replace that is
 * refused when the text is missing or ambiguous, when the file changed since this principal last
 * read or wrote it (size/mtime), and when it changed between this edit's read and its write
 * (sha256 re-check just before the PUT).
 */
import { createHash } from 'node:crypto';
import { HoodyError, type NextStep } from './errors.js';
import type { FileStat, FilesKit } from './kits/files.js';

interface Mark {
  mtimeMs?: number;
  size: number;
}

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

  /** Remember what a file looked like when it was last read or written here. */
  async mark(containerId: string, path: string, signal?: AbortSignal, known?: FileStat): Promise<void> {
    const s = known ?? (await this.files.stat(containerId, path, signal).catch(() => undefined));
    if (s) this.marks.set(this.#key(containerId, path), { mtimeMs: s.mtimeMs, size: s.size });
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
    const s = await this.statOrFail(containerId, path, signal);
    if (s.type === 'dir') throw new HoodyError({ kind: 'bad_request', source: 'files', message: `${path} is a directory`, hint: 'only files can be edited' });
    const seen = this.marks.get(this.#key(containerId, path));
    if (seen && (seen.size !== s.size || (seen.mtimeMs !== undefined && s.mtimeMs !== undefined && seen.mtimeMs !== s.mtimeMs))) {
      throw refuse(`${path} changed since you last read it`, { code: 'reread_file', path });
    }
    const bytes = await this.files.readBytes(containerId, path, signal);
    const before = bytes.toString('utf8');
    const n = countOf(before, oldString);
    if (n === 0) throw refuse(`old_string not found in ${path}`, { code: 'copy_exact', path });
    if (n > 1 && !replaceAll) throw refuse(`old_string occurs ${n} times in ${path}`, { code: 'widen_match', count: n });
    const after = replaceAll ? before.split(oldString).join(newString) : before.replace(oldString, () => newString);
    const digest = createHash('sha256').update(bytes).digest('hex');
    if ((await this.files.sha256(containerId, path, signal)) !== digest) {
      throw refuse(`${path} changed while it was being edited`, { code: 'reread_file', path });
    }
    await this.files.write(containerId, path, Buffer.from(after, 'utf8'), { signal });
    await this.mark(containerId, path, signal);
    return { before, after, replacements: n };
  }
}
