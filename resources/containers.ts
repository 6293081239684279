/** Resources: containers, a container, its files, a job's full output. Kit URLs never appear here. */
import { posix } from 'node:path';
import type { Hoody } from '../src/core/hoody.js';
import type { Container } from '../src/core/control.js';
import { containerPath } from '../src/core/kits/files.js';
import { defineResource } from '../src/mcp/define-resource.js';

type Deps = Hoody;
const MAX_RESOURCE_BYTES = 8 * 1024 * 1024;

const summary = (c: Container) => ({
  id: c.id,
  name: c.name,
  status: c.status,
  project_id: c.project_id,
  server: c.server_name,
  image: c.container_image ?? null,
  created_at: c.created_at ?? null,
});

export async function completeContainer(value: string, deps: Deps): Promise<string[]> {
  const all = await deps.control.listContainers();
  const v = value.toLowerCase();
  return all.flatMap((c) => [c.name, c.id]).filter((s) => s.toLowerCase().startsWith(v)).slice(0, 100);
}

const json = (uri: URL, value: unknown) => ({ contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(value, null, 1) }] });

/** Text if it decodes as UTF-8 without NULs, else a blob. */
function isText(bytes: Buffer): boolean {
  if (bytes.includes(0)) return false;
  return !bytes.toString('utf8').includes('\uFFFD');
}

export const containerResources = [
  defineResource<Deps>({
    name: 'containers',
    uri: 'hoody://containers',
    title: 'Containers',
    description: 'Every container: id, name, status, project, server.',
    mimeType: 'application/json',
    async read(uri, _vars, { deps, signal }) {
      const list = await deps.control.listContainers({ signal });
      return json(uri, list.map(summary));
    },
  }),

  defineResource<Deps>({
    name: 'container',
    uri: 'hoody://containers/{container}',
    title: 'Container',
    description: 'One container (id or name): status, project, server, image.',
    mimeType: 'application/json',
    async list({ deps, signal }) {
      const list = await deps.control.listContainers({ signal });
      return list.map((c) => ({ uri: `hoody://containers/${c.id}`, name: c.name, mimeType: 'application/json' }));
    },
    complete: { container: completeContainer },
    async read(uri, vars, { deps, signal }) {
      return json(uri, summary(await deps.container(vars.container, signal)));
    },
  }),

  defineResource<Deps>({
    name: 'container-file',
    uri: 'hoody://containers/{container}/files/{+path}',
    title: 'Container file',
    description: 'A file in a container; path is absolute without its leading slash. Subscribable.',
    complete: { container: completeContainer },
    async read(uri, vars, { deps, signal }) {
      const id = await deps.containerId(vars.container, signal);
      const p = containerPath(`/${decodeURIComponent(vars.path ?? '')}`);
      const s = await deps.files.stat(id, p, signal);
      if (!s) throw Object.assign(new Error(`${p} does not exist`), { hint: 'file_list shows what is there' });
      if (s.type === 'dir') {
        const entries = await deps.files.list(id, p, signal);
        return json(uri, entries.map((e) => ({ name: e.name, type: e.type, size: e.size })));
      }
      if (s.size > MAX_RESOURCE_BYTES) {
        throw Object.assign(new Error(`${p} is ${s.size} bytes, over the ${MAX_RESOURCE_BYTES}-byte resource limit`), {
          hint: 'use file_transfer to download it, or file_read with offset/limit',
        });
      }
      const bytes = await deps.files.readBytes(id, p, signal);
      const ext = posix.extname(p).toLowerCase();
      if (isText(bytes)) return { contents: [{ uri: uri.href, mimeType: ext === '.json' ? 'application/json' : 'text/plain', text: bytes.toString('utf8') }] };
      return { contents: [{ uri: uri.href, mimeType: 'application/octet-stream', blob: bytes.toString('base64') }] };
    },
    async subscribe(_uri, vars, { deps, signal }, changed) {
      const id = await deps.containerId(vars.container, signal);
      const p = containerPath(`/${decodeURIComponent(vars.path ?? '')}`);
      const s = await deps.files.stat(id, p, signal);
      if (!s) throw Object.assign(new Error(`${p} does not exist`), { hint: 'subscribe to an existing file or directory' });
      await deps.watches.follow(id, p, s.type === 'dir', changed, signal);
    },
  }),

  defineResource<Deps>({
    name: 'job-output',
    uri: 'hoody://containers/{container}/jobs/{job}',
    title: 'Job output',
    description: 'The full output of an exec_run job, with its state.',
    mimeType: 'text/plain',
    complete: { container: completeContainer },
    async read(uri, vars, { deps, signal }) {
      const id = await deps.containerId(vars.container, signal);
      const s = await deps.jobs.get(id, vars.job, signal);
      const head = s.done ? `# ${s.status}${s.exitCode !== null ? `, exit ${s.exitCode}` : ''}` : '# running';
      return { contents: [{ uri: uri.href, mimeType: 'text/plain', text: `${head}\n${s.output}` }] };
    },
  }),
];
