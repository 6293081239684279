#!/usr/bin/env node
// A short scripted agent session over stdio against --sim: prints each result as a model reads
// it (text, its length, isError), so wording, size and the next step can be judged by eye.
// Usage: npm run build && node scripts/agent-session.mjs [extra server flags…]
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/bin/cli.js', import.meta.url));
const transport = new StdioClientTransport({ command: process.execPath, args: [cli, '--sim', ...process.argv.slice(2)], stderr: 'ignore' });
const client = new Client({ name: 'agent-session', version: '0' });
await client.connect(transport);

const steps = [
  ['container_list', {}],
  ['exec_run', { command: 'seq 1 20000' }],
  ['exec_run', { command: 'echo start; sleep 4; echo done', wait_s: 1 }],
  ['exec_status', { job: '$job', wait_s: 10 }],
  ['file_write', { path: '~/notes/todo.md', content: 'one\ntwo\nthree\n' }],
  ['file_read', { path: '~/notes/todo.md' }],
  ['file_edit', { path: '~/notes/todo.md', old_string: 'two', new_string: 'TWO' }],
  ['file_edit', { path: '~/notes/todo.md', old_string: 'nope', new_string: 'x' }],
  ['file_search', { pattern: 'TWO', path: '~/notes' }],
  ['file_read', { path: '/etc/../home/user/missing.txt' }],
  ['exec_run', { container: 'no-such-box', command: 'true' }],
  ['container_snapshot', { action: 'list' }],
];
let job;
for (const [name, raw] of steps) {
  const args = JSON.parse(JSON.stringify(raw).replace('"$job"', JSON.stringify(job ?? '')));
  const progress = [];
  const r = await client.callTool({ name, arguments: args }, { onprogress: (p) => progress.push(p.message) });
  const text = r.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');
  job = r.structuredContent?.job ?? job;
  const lines = text.split('\n');
  const marks = lines.filter((l) => /cut|continue/.test(l));
  const shown = lines.length > 14 ? [...lines.slice(0, 5), '[…]', ...marks, '[…]', ...lines.slice(-4)].join('\n') : text;
  console.log(`\n▶ ${name} ${JSON.stringify(args)}${r.isError ? '  [isError]' : ''}  (${text.length} chars${progress.length ? `, ${progress.length} progress` : ''})`);
  console.log(shown.replace(/^/gm, '  '));
}
await client.close();
