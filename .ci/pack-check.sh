#!/usr/bin/env bash
# pack-check.sh — the package as users get it: `npm pack`, install the tarball into an empty
# directory (the registry supplies only sharp: everything else is bundled), then `npx hoody-mcp
# --sim` from there answers initialize, tools/list and tool calls — exec_run, and file_read of a
# PNG, which goes through sharp (native, external to the bundle) resolved from the installed package.
# Run after `npm run build`. Prints PASS/FAIL lines and "pack-check: PASS" or "pack-check: FAIL".
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pack-check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAILED=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: ${2:0:400}"; FAILED=1; }

cd "$ROOT" || exit 2
[ -f dist/bin/cli.js ] || { echo "FAIL build: dist/bin/cli.js missing (npm run build)"; echo "pack-check: FAIL"; exit 1; }
if ! tgz=$(npm pack --silent --pack-destination "$WORK" 2>"$WORK/pack.log" | tail -n1) || [ ! -f "$WORK/$tgz" ]; then
  fail pack "$(tail -n3 "$WORK/pack.log")"; echo "pack-check: FAIL"; exit 1
fi
files=$(tar -tzf "$WORK/$tgz" | wc -l)
size=$(du -k "$WORK/$tgz" | cut -f1)
if [ "$files" -le 40 ]; then pass "pack: $tgz, $files files, ${size} kB"; else fail pack "$files files (want ≤ 40): $(tar -tzf "$WORK/$tgz" | head -50 | tr '\n' ' ')"; fi

mkdir -p "$WORK/app" && cd "$WORK/app" || exit 2
echo '{"name":"pack-check","private":true}' >package.json
if npm install --no-audit --no-fund --loglevel=error "$WORK/$tgz" >"$WORK/install.log" 2>&1; then
  pass "install: $(find node_modules -maxdepth 2 -name package.json | wc -l) packages"
else
  fail install "$(tail -n5 "$WORK/install.log")"; echo "pack-check: FAIL"; exit 1
fi

cat >"$WORK/drive.mjs" <<'JS'
// Minimal MCP client over stdio (no SDK: the empty directory has none): prints one JSON summary.
import { spawn } from 'node:child_process';
const p = spawn('npx', ['--no-install', 'hoody-mcp', '--sim'], { stdio: ['pipe', 'pipe', 'pipe'] });
let err = ''; p.stderr.on('data', (d) => (err += d));
const out = {};
const finish = (code) => { out.stderr = err.slice(-300); console.log(JSON.stringify(out)); p.kill('SIGTERM'); process.exit(code); };
setTimeout(() => { out.error = 'timed out'; finish(1); }, 60_000).unref();
let buf = '', id = 0; const pending = new Map();
p.stdout.on('data', (d) => {
  buf += d; let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, i); buf = buf.slice(i + 1);
    let m; try { m = JSON.parse(line); } catch { continue; }
    if (m.id !== undefined && pending.has(m.id)) { pending.get(m.id)(m); pending.delete(m.id); }
  }
});
const send = (o) => p.stdin.write(JSON.stringify(o) + '\n');
const req = (method, params) => new Promise((res) => { const i = ++id; pending.set(i, res); send({ jsonrpc: '2.0', id: i, method, params }); });
const tool = async (name, args) => (await req('tools/call', { name, arguments: args })).result;
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
try {
  const init = await req('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'pack-check', version: '0' } });
  out.server = init.result?.serverInfo;
  send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  out.tools = (await req('tools/list', {})).result?.tools?.length ?? 0;
  const ex = await tool('exec_run', { command: `echo packed-ok; echo ${PNG} | base64 -d > /tmp/pack-check.png` });
  out.exec = !ex?.isError && JSON.stringify(ex?.content ?? '').includes('packed-ok');
  const img = await tool('file_read', { path: '/tmp/pack-check.png' });
  out.image = !img?.isError && (img?.content ?? []).some((c) => c.type === 'image');
  if (!out.image) out.imageText = JSON.stringify(img).slice(0, 300);
  finish(out.tools > 0 && out.exec && out.image ? 0 : 1);
} catch (e) { out.error = String(e); finish(1); }
JS
res=$(node "$WORK/drive.mjs" 2>&1 | tail -n1)
echo "$res" >"$WORK/res.json"
get() { node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));const v=(new Function("r","return ("+process.argv[2]+")"))(r);process.stdout.write(String(v??""))' "$WORK/res.json" "$1" 2>/dev/null; }
if [ "$(get 'r.tools > 0')" = true ]; then pass "npx hoody-mcp --sim: initialize + tools/list ($(get r.tools) tools)"; else fail tools/list "$res"; fi
if [ "$(get r.exec)" = true ]; then pass "tools/call exec_run"; else fail "tools/call exec_run" "$res"; fi
if [ "$(get r.image)" = true ]; then pass "tools/call file_read of a PNG (sharp from the installed package)"; else fail "tools/call file_read image" "$res"; fi

if [ "$FAILED" = 0 ]; then echo "pack-check: PASS"; else echo "pack-check: FAIL"; fi
exit "$FAILED"
