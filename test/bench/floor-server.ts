/**
 * The SDK floor for the per-call bench: a bare official-SDK stdio server whose tools make the same
 * upstream exchange as the direct client (directOps, with the same HTTP core) and answer with a
 * text as long as hoody-mcp's answer (made of its first characters, so it pays the same JSON
 * escaping) and the same structured content. What any MCP server on the SDK pays for that call
 * over stdio is this server's time minus the direct exchange; hoody-mcp's own cost is the rest.
 * Started by run.ts with the kit URLs in FLOOR_TERMINAL_URL and FLOOR_FILES_URL.
 */
import { McpServer } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import * as z from 'zod';
import { directOps } from './calls.js';

const ops = directOps(process.env.FLOOR_TERMINAL_URL!, process.env.FLOOR_FILES_URL!, '4');
const input = z.object({
  i: z.number(),
  /** The answer's text length, its first characters, its structured content. */
  n: z.number(),
  sample: z.string(),
  structured: z.record(z.string(), z.unknown()).optional(),
  /** hoody-mcp's arguments for this call, sent along so the request is as large (not used). */
  args: z.record(z.string(), z.unknown()),
});

serveStdio(() => {
  const server = new McpServer({ name: 'sdk-floor', version: '0' });
  for (const [name, op] of Object.entries(ops)) {
    server.registerTool(name, { inputSchema: input }, async ({ i, n, sample, structured }) => {
      await op(i);
      const text = sample.repeat(Math.ceil(n / Math.max(1, sample.length))).slice(0, n);
      return { content: [{ type: 'text', text }], ...(structured ? { structuredContent: structured } : {}) };
    });
  }
  return server;
});
