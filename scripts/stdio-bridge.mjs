// The conformance suite drives servers over HTTP only: this bridge lets it drive the stdio
// transport. Each `initialize` spawns `node dist/bin/cli.js --sim` (one stdio server per session,
// Mcp-Session-Id), each POSTed JSON-RPC message is written to its stdin as one line and the line
// answering it comes back as application/json; notifications get 202. It adds no MCP logic: what
// the suite checks is the stdio server's answers. Prints "bridge at <url>" when listening.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../dist/bin/cli.js', import.meta.url));
const sessions = new Map();

function open() {
  const child = spawn(process.execPath, [CLI, '--sim'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const waiting = new Map();
  createInterface({ input: child.stdout }).on('line', (line) => {
    let msg;
    try { msg = JSON.parse(line); } catch { return; }
    if (msg.id !== undefined && waiting.has(msg.id) && !msg.method) { waiting.get(msg.id)(msg); waiting.delete(msg.id); }
  });
  return { child, waiting };
}

const server = createServer(async (req, res) => {
  if (req.method === 'DELETE') {
    const s = sessions.get(req.headers['mcp-session-id']);
    s?.child.kill();
    sessions.delete(req.headers['mcp-session-id']);
    return res.writeHead(200).end();
  }
  if (req.method !== 'POST') return res.writeHead(405).end();
  let body = '';
  for await (const chunk of req) body += chunk;
  let msg;
  try { msg = JSON.parse(body); } catch { return res.writeHead(400).end(); }
  let id = req.headers['mcp-session-id'];
  if (msg.method === 'initialize') sessions.set((id = randomUUID()), open());
  const s = sessions.get(id);
  if (!s) return res.writeHead(404).end();
  if (msg.id === undefined) {
    s.child.stdin.write(`${body.trim()}\n`);
    return res.writeHead(202).end();
  }
  const answer = new Promise((resolve) => s.waiting.set(msg.id, resolve));
  s.child.stdin.write(`${JSON.stringify(msg)}\n`);
  const reply = await answer;
  res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': id }).end(JSON.stringify(reply));
});
server.listen(0, '127.0.0.1', () => console.log(`bridge at http://127.0.0.1:${server.address().port}/mcp`));
const stop = () => { for (const s of sessions.values()) s.child.kill(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
