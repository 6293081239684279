#!/usr/bin/env node
// Prints what tools/list costs a model: JSON bytes / 4 ≈ tokens, per tool and in total.
// Usage: npm run tools:size [-- --toolsets containers,exec,files]
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/bin/cli.js', import.meta.url));
const args = process.argv.slice(2);
const transport = new StdioClientTransport({ command: process.execPath, args: [cli, ...(args.length ? args : ['--toolsets', 'containers,exec,files'])], stderr: 'ignore' });
const client = new Client({ name: 'tools-size', version: '0' });
await client.connect(transport);
const { tools } = await client.listTools();
await client.close();
const rows = tools.map((t) => [t.name, Buffer.byteLength(JSON.stringify(t))]);
for (const [name, bytes] of rows) console.log(`${name.padEnd(20)} ${String(bytes).padStart(5)} B  ~${Math.round(bytes / 4)} tokens`);
const total = Buffer.byteLength(JSON.stringify(tools));
console.log(`${'total'.padEnd(20)} ${String(total).padStart(5)} B  ~${Math.round(total / 4)} tokens (${tools.length} tools)`);
