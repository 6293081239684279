#!/usr/bin/env bash
# check-clients.sh — connect MCP clients that nobody on this team wrote to hoody-mcp,
# over stdio and streamable HTTP, in protocol versions 2025-06-18, 2025-11-25 and 2026-07-28.
#
# Clients (installed from npm into a cache dir on first use; pinned versions below):
#   MCP Inspector 2.x CLI  --strict tools/list, tools/call, resources/templates/list;
#                          2025-11-25 with --protocol-era legacy, 2026-07-28 with --protocol-era modern
#   MCP Inspector 0.16 CLI on SDK 1.22 — its client sends 2025-06-18 (Inspector 2.x cannot pin that)
#   Codex app-server       JSON-RPC on stdio: mcpServerStatus/list + mcpServer/tool/call (sends 2025-06-18)
#   Claude Code            claude mcp add / claude mcp list (server/discover → 2026-07-28 when offered)
#   opencode (optional)    opencode mcp list (sends 2025-11-25)
#
# Environment:
#   HOODY_MCP_CMD         server command, split on whitespace (no quoting)   [node dist/bin/cli.js --sim]
#   HOODY_MCP_URL         streamable HTTP endpoint; when unset the script runs
#                         "$HOODY_MCP_CMD --http --port <free>" itself, waits for GET /healthz = 200,
#                         and stops it at the end
#   HOODY_MCP_PROBE_TOOL  a read-only tool to call                            [project_list]
#   HOODY_MCP_PROBE_ARGS  its arguments as one JSON object                    [{}]
#   CLIENTCHECK_DIR       install cache                                       [/tmp/clientcheck]
#   CLIENTCHECK_TIMEOUT   seconds allowed for each client call                [60]
#   CLIENTCHECK_OPENCODE  0 to skip the opencode checks                       [1]
#   CLIENTCHECK_STRICT_WARNINGS  "fail" to fail a --strict check on lint warnings too [report]
#   CLIENTCHECK_INSTALL_ONLY  1 = run only the install-* checks: `hoody-mcp install <client>` writes
#                         each client's own config (claude-code, codex, opencode; --command = the
#                         server command), and the client connects with exactly that   [0]
#   CLIENTCHECK_REMOTE    1 = check the hosted form instead: a standalone simulator, an HTTP server
#                         holding no token (a request without credentials gets 401), and every
#                         client configured as the README says to send its own bearer token
#                         (HTTP checks only)                                  [0]
#   HOODY_MCP_BEARER      with HOODY_MCP_URL: the token HTTP clients send as Authorization: Bearer
#
# Prints one line per check, "PASS <name>" or "FAIL <name>: <reason>", then
# "clients: N passed, N failed"; exits 1 when any check failed.
# Nothing global is touched: every client runs with a throwaway HOME / config dir.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2

CMD_STR=${HOODY_MCP_CMD:-node dist/bin/cli.js --sim}
URL=${HOODY_MCP_URL:-}
PROBE_TOOL=${HOODY_MCP_PROBE_TOOL:-project_list}
PROBE_ARGS=${HOODY_MCP_PROBE_ARGS:-'{}'}
CACHE=${CLIENTCHECK_DIR:-/tmp/clientcheck}
TMO=${CLIENTCHECK_TIMEOUT:-60}
WITH_OPENCODE=${CLIENTCHECK_OPENCODE:-1}
STRICT_WARNINGS=${CLIENTCHECK_STRICT_WARNINGS:-report}
REMOTE=${CLIENTCHECK_REMOTE:-0}
INSTALL_ONLY=${CLIENTCHECK_INSTALL_ONLY:-0}
BEARER=${HOODY_MCP_BEARER:-}

INSPECTOR_VERSION=2.12.0
INSPECTOR_LEGACY_CLI_VERSION=0.16.8 # with its SDK pinned to 1.22.0, whose client sends 2025-06-18
INSPECTOR_LEGACY_SDK_VERSION=1.22.0
CODEX_VERSION=0.169.0
CLAUDE_VERSION=2.1.330
OPENCODE_VERSION=1.18.33
NODE22_VERSION=22.23.3 # Inspector 2.x needs Node >= 22.19; fetched as the npm package node-linux-<arch>

PASSED=0
FAILED=0
pass() { echo "PASS $1"; PASSED=$((PASSED + 1)); }
fail() { local r=${2//$'\n'/ }; echo "FAIL $1: ${r:0:300}"; FAILED=$((FAILED + 1)); }
# one line, at most 200 chars, of a file's most telling content
reason() { tr -d '\r' <"$1" 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g' | grep -v '^[[:space:]]*$' | tail -n 3 | tr '\n' ' ' | cut -c1-200; }

# JSON helpers (node, reading a file)
json_get() { # file, js expression over `r` (parsed JSON); prints result or nothing
  node -e '
    const fs=require("fs"); let r; try { r=JSON.parse(fs.readFileSync(process.argv[1],"utf8")); } catch { process.exit(1); }
    const v=(new Function("r","return ("+process.argv[2]+")"))(r); if (v!==undefined && v!==null) process.stdout.write(typeof v==="string"?v:JSON.stringify(v));
  ' "$1" "$2" 2>/dev/null
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/check-clients.XXXXXX")
SERVER_PID=""
SIM_PID=""
SERVER_UP=0
cleanup() {
  [ -n "$SIM_PID" ] && { kill -TERM -- "-$SIM_PID" 2>/dev/null || kill -TERM "$SIM_PID" 2>/dev/null; }
  if [ -n "$SERVER_PID" ]; then
    kill -TERM -- "-$SERVER_PID" 2>/dev/null || kill -TERM "$SERVER_PID" 2>/dev/null
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.3; done
    kill -KILL -- "-$SERVER_PID" 2>/dev/null || kill -KILL "$SERVER_PID" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

run() { timeout -k 5 "$TMO" "$@"; } # every client call is bounded
rcmsg() { if [ "$1" -eq 124 ] || [ "$1" -eq 137 ]; then echo "timed out after ${TMO}s"; else echo "rc=$1"; fi; }

# ---------------------------------------------------------------- server command
read -r -a CMD <<<"$CMD_STR"
if [ "${#CMD[@]}" -eq 0 ]; then echo "HOODY_MCP_CMD is empty" >&2; exit 2; fi
# clients start the server from their own working dirs and with PATHs of their own:
# make the program and any relative file arguments absolute
if [[ "${CMD[0]}" != */* ]]; then
  resolved=$(command -v "${CMD[0]}") || { echo "cannot find ${CMD[0]} on PATH" >&2; exit 2; }
  CMD[0]=$resolved
fi
for i in "${!CMD[@]}"; do
  a=${CMD[$i]}
  if [[ "$a" != /* && "$a" != -* && "$a" != *=* && ( "$a" == */* || -e "$ROOT/$a" ) ]]; then
    CMD[$i]="$ROOT/$a"
    [ -e "${CMD[$i]}" ] || echo "warning: ${CMD[$i]} does not exist (build first: npm run build)" >&2
  fi
done
json_array() { node -e 'process.stdout.write(JSON.stringify(process.argv.slice(1)))' -- "$@"; }
json_str() { node -e 'process.stdout.write(JSON.stringify(process.argv[1]))' -- "$1"; }
CMD_JSON=$(json_array "${CMD[@]}")

# ---------------------------------------------------------------- installs
mkdir -p "$CACHE"
INSTALL_LOG="$CACHE/install.log"
exec 9>"$CACHE/.lock"
if command -v flock >/dev/null; then flock -w 900 9 || { echo "could not lock $CACHE" >&2; exit 2; }; fi

node_major_ok() { "$1" -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=19)?0:1)' 2>/dev/null; }
NODE22=""
if node_major_ok "$(command -v node)"; then
  NODE22=$(command -v node)
else
  case "$(uname -m)" in x86_64) narch=x64 ;; aarch64|arm64) narch=arm64 ;; *) narch=unknown ;; esac
  NODE22="$CACHE/node22/node_modules/node-linux-$narch/bin/node"
  if ! node_major_ok "$NODE22"; then
    mkdir -p "$CACHE/node22"
    echo '{"name":"clientcheck-node22","private":true}' >"$CACHE/node22/package.json"
    (cd "$CACHE/node22" && npm install --no-audit --no-fund --loglevel=error "node-linux-$narch@$NODE22_VERSION") >>"$INSTALL_LOG" 2>&1
  fi
  node_major_ok "$NODE22" || NODE22=""
fi

pkg_version() { node -p "require('$1/node_modules/$2/package.json').version" 2>/dev/null; }
CL="$CACHE/clients"
want_clients=("@modelcontextprotocol/inspector@$INSPECTOR_VERSION" "@openai/codex@$CODEX_VERSION" "@anthropic-ai/claude-code@$CLAUDE_VERSION")
[ "$WITH_OPENCODE" = 1 ] && want_clients+=("opencode-ai@$OPENCODE_VERSION")
missing=0
for spec in "${want_clients[@]}"; do
  name=${spec%@*}; ver=${spec##*@}
  [ "$(pkg_version "$CL" "$name")" = "$ver" ] || missing=1
done
if [ "$missing" = 1 ]; then
  mkdir -p "$CL"
  [ -f "$CL/package.json" ] || echo '{"name":"clientcheck-clients","private":true}' >"$CL/package.json"
  echo "installing clients into $CL (log: $INSTALL_LOG)" >&2
  (cd "$CL" && PATH="$(dirname "${NODE22:-$(command -v node)}"):$PATH" \
    npm install --no-audit --no-fund --loglevel=error "${want_clients[@]}") >>"$INSTALL_LOG" 2>&1
fi
IL="$CACHE/inspector-2025-06-18"
if [ "$(pkg_version "$IL" @modelcontextprotocol/inspector-cli)" != "$INSPECTOR_LEGACY_CLI_VERSION" ] ||
   [ "$(pkg_version "$IL" @modelcontextprotocol/sdk)" != "$INSPECTOR_LEGACY_SDK_VERSION" ]; then
  mkdir -p "$IL"
  cat >"$IL/package.json" <<EOF
{ "name": "clientcheck-inspector-2025-06-18", "private": true,
  "dependencies": { "@modelcontextprotocol/inspector-cli": "$INSPECTOR_LEGACY_CLI_VERSION",
                    "@modelcontextprotocol/sdk": "$INSPECTOR_LEGACY_SDK_VERSION" },
  "overrides": { "@modelcontextprotocol/sdk": "$INSPECTOR_LEGACY_SDK_VERSION" } }
EOF
  (cd "$IL" && npm install --no-audit --no-fund --loglevel=error) >>"$INSTALL_LOG" 2>&1
fi
exec 9>&-

INSPECTOR="$CL/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js"
INSPECTOR_OLD="$IL/node_modules/@modelcontextprotocol/inspector-cli/build/index.js"
CODEX="$CL/node_modules/.bin/codex"
CLAUDE="$CL/node_modules/.bin/claude"
OPENCODE="$CL/node_modules/.bin/opencode"
have_inspector=1; have_inspector_old=1; have_codex=1; have_claude=1; have_opencode=1
[ -n "$NODE22" ] && [ -f "$INSPECTOR" ] || have_inspector=0
[ -n "$NODE22" ] && [ -f "$INSPECTOR_OLD" ] || have_inspector_old=0
[ -x "$CODEX" ] && run "$CODEX" --version >/dev/null 2>&1 || have_codex=0
[ -x "$CLAUDE" ] && run "$CLAUDE" --version >/dev/null 2>&1 || have_claude=0
[ -x "$OPENCODE" ] && run "$OPENCODE" --version >/dev/null 2>&1 || have_opencode=0
[ "$WITH_OPENCODE" = 1 ] || have_opencode=0
echo "client versions: inspector $( [ $have_inspector = 1 ] && echo "$INSPECTOR_VERSION" || echo missing)," \
  "inspector-cli $( [ $have_inspector_old = 1 ] && echo "$INSPECTOR_LEGACY_CLI_VERSION/sdk $INSPECTOR_LEGACY_SDK_VERSION" || echo missing)," \
  "codex $( [ $have_codex = 1 ] && echo "$CODEX_VERSION" || echo missing)," \
  "claude $( [ $have_claude = 1 ] && echo "$CLAUDE_VERSION" || echo missing)," \
  "opencode $( [ $have_opencode = 1 ] && echo "$OPENCODE_VERSION" || echo off/missing)" >&2

# ---------------------------------------------------------------- HTTP server
SERVER_ENV=()
if [ "$REMOTE" = 1 ] && [ -z "$URL" ]; then
  # The hosted form: a simulator on its own, and a server that holds no token.
  SIM_INFO="$WORK/sim.json"
  setsid node --input-type=module -e '
    const m = await import(process.argv[1]); const fs = await import("node:fs");
    const s = await m.startSim({});
    fs.writeFileSync(process.argv[2], JSON.stringify({ apiUrl: s.apiUrl, token: s.token }), { mode: 0o600 });
    process.on("SIGTERM", () => s.close().then(() => process.exit(0)));
  ' "$ROOT/dist/src/sim/index.js" "$SIM_INFO" </dev/null >"$WORK/sim.log" 2>&1 &
  SIM_PID=$!
  for _ in $(seq 1 50); do [ -s "$SIM_INFO" ] && break; sleep 0.2; done
  BEARER=$(json_get "$SIM_INFO" 'r.token')
  SERVER_ENV=(HOODY_API_URL="$(json_get "$SIM_INFO" 'r.apiUrl')" HOODY_TOKEN=)
  CMD=(node "$ROOT/dist/bin/cli.js")
fi
if [ -z "$URL" ]; then
  PORT=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  URL="http://127.0.0.1:$PORT/mcp"
  SERVER_LOG="$WORK/http-server.log"
  env "${SERVER_ENV[@]}" setsid "${CMD[@]}" --http --port "$PORT" </dev/null >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  HEALTH="${URL%/mcp}/healthz"
  up=0
  for _ in $(seq 1 100); do
    if [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$HEALTH")" = 200 ]; then up=1; break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.2
  done
  if [ "$up" = 1 ]; then pass "http-server-start"; SERVER_UP=1; else
    fail "http-server-start" "GET $HEALTH never answered 200: $(reason "$SERVER_LOG")"
    URL=""
  fi
fi

# every client gets a throwaway HOME (and its own config dir under it)
fresh_home() {
  local h
  h=$(mktemp -d "$WORK/home.XXXXXX")
  mkdir -p "$h/work"
  echo "$h"
}
client_env() { # $1 = home
  echo HOME="$1" XDG_CONFIG_HOME="$1/.config" XDG_DATA_HOME="$1/.local/share" XDG_CACHE_HOME="$1/.cache" \
    XDG_STATE_HOME="$1/.local/state" MCP_CATALOG_PATH="$1/.mcp-inspector/mcp.json" \
    MCP_CLIENT_CONFIG_PATH="$1/.mcp-inspector/client.json" MCP_STORAGE_DIR="$1/.mcp-inspector/storage" \
    CODEX_HOME="$1/.codex" CLAUDE_CONFIG_DIR="$1/.claude" CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
    DISABLE_TELEMETRY=1 DISABLE_AUTOUPDATER=1 DISABLE_ERROR_REPORTING=1 \
    OPENCODE_DISABLE_AUTOUPDATE=1 OPENCODE_DISABLE_MODELS_FETCH=1 OPENCODE_DISABLE_LSP_DOWNLOAD=1 NO_COLOR=1
}
in_home() { # $1 = home, rest = command (run in $home/work, bounded)
  local h=$1; shift
  # shellcheck disable=SC2046
  (cd "$h/work" && env $(client_env "$h") timeout -k 5 "$TMO" "$@")
}


# ---------------------------------------------------------------- Inspector 2.x
# target args: stdio → the command; http → the URL with --transport http
inspector_target() {
  if [ "$1" = stdio ]; then printf '%s\0' "${CMD[@]}"; return; fi
  printf '%s\0' "$URL" --transport http
  [ -n "$BEARER" ] && printf '%s\0' --header "Authorization: Bearer $BEARER"
}
era_of() { case "$1" in 2025-11-25) echo legacy ;; 2026-07-28) echo modern ;; esac; }

inspector_list() { # transport version
  local t=$1 v=$2 name="inspector-$1-$2" h out err rc pv n warns
  local -a target; mapfile -d '' target < <(inspector_target "$t")
  h=$(fresh_home); out="$h/out.json"; err="$h/err.txt"
  in_home "$h" "$NODE22" "$INSPECTOR" --cli "${target[@]}" --method initialize \
    --protocol-era "$(era_of "$v")" --format json -q >"$out" 2>"$err"; rc=$?
  pv=$(json_get "$out" 'r.result.protocolVersion')
  if [ $rc -ne 0 ] || [ "$pv" != "$v" ]; then
    fail "$name" "initialize $(rcmsg $rc) negotiated=${pv:-none} $(reason "$err")$(reason "$out")"; return
  fi
  in_home "$h" "$NODE22" "$INSPECTOR" --cli "${target[@]}" --method tools/list --strict \
    --protocol-era "$(era_of "$v")" --format json >"$out" 2>"$err"; rc=$?
  n=$(json_get "$out" 'r.result.tools.length')
  warns=$(grep -Eo '[0-9]+ errors?, [0-9]+ warnings?' "$err" | tail -n1)
  if [ $rc -eq 6 ]; then fail "$name" "--strict lint errors: ${warns:-see inspector output} $(grep -m1 -A2 '^Error: tool' "$err" | tr '\n' ' ' | cut -c1-200)"; return; fi
  if [ $rc -ne 0 ] || [ -z "$n" ]; then fail "$name" "tools/list $(rcmsg $rc) $(reason "$err")$(reason "$out")"; return; fi
  if [ -z "$(json_get "$out" "r.result.tools.some(t=>t.name===$(json_str "$PROBE_TOOL"))||undefined")" ]; then
    fail "$name" "tools/list ($n tools) lacks $PROBE_TOOL"; return
  fi
  if [ -n "$warns" ] && ! [[ "$warns" =~ ^0\ errors?,\ 0\ warnings? ]]; then
    if [ "$STRICT_WARNINGS" = fail ]; then fail "$name" "--strict: $warns"; return; fi
    echo "WARN $name: --strict reports $warns (CLIENTCHECK_STRICT_WARNINGS=fail to fail on them)"
  fi
  pass "$name"
}

inspector_call() { # transport version
  local t=$1 v=$2 name="inspector-call-$1-$2" h out err rc
  local -a target; mapfile -d '' target < <(inspector_target "$t")
  h=$(fresh_home); out="$h/out.json"; err="$h/err.txt"
  in_home "$h" "$NODE22" "$INSPECTOR" --cli "${target[@]}" --method tools/call --tool-name "$PROBE_TOOL" \
    --tool-args-json "$PROBE_ARGS" --protocol-era "$(era_of "$v")" --format json -q >"$out" 2>"$err"; rc=$?
  if [ $rc -ne 0 ] || [ -z "$(json_get "$out" 'r.result && Array.isArray(r.result.content) || undefined')" ]; then
    fail "$name" "tools/call $PROBE_TOOL $(rcmsg $rc) $(reason "$err")$(reason "$out")"; return
  fi
  if [ "$(json_get "$out" 'r.result.isError===true')" = true ]; then
    fail "$name" "$PROBE_TOOL returned isError: $(json_get "$out" 'r.result.content.map(c=>c.text||c.type).join(" ")' | cut -c1-160)"; return
  fi
  pass "$name"
}

inspector_templates() { # transport version
  local t=$1 v=$2 name="inspector-templates-$1-$2" h out err rc
  local -a target; mapfile -d '' target < <(inspector_target "$t")
  h=$(fresh_home); out="$h/out.json"; err="$h/err.txt"
  in_home "$h" "$NODE22" "$INSPECTOR" --cli "${target[@]}" --method resources/templates/list \
    --protocol-era "$(era_of "$v")" --format json -q >"$out" 2>"$err"; rc=$?
  if [ $rc -ne 0 ] || [ -z "$(json_get "$out" 'Array.isArray(r.result.resourceTemplates)||undefined')" ]; then
    fail "$name" "resources/templates/list $(rcmsg $rc) $(reason "$err")$(reason "$out")"; return
  fi
  pass "$name"
}

# Inspector 0.16 CLI on SDK 1.22: initialize with 2025-06-18 (no --strict in this CLI)
inspector_old_list() { # transport
  local t=$1 name="inspector-$1-2025-06-18" h out err rc
  local -a target
  if [ "$t" = stdio ]; then target=("${CMD[@]}"); else mapfile -d '' target < <(inspector_target "$t"); fi
  h=$(fresh_home); out="$h/out.json"; err="$h/err.txt"
  in_home "$h" "$NODE22" "$INSPECTOR_OLD" "${target[@]}" --method tools/list >"$out" 2>"$err"; rc=$?
  if [ $rc -ne 0 ] || [ -z "$(json_get "$out" "r.tools.some(t=>t.name===$(json_str "$PROBE_TOOL"))||undefined")" ]; then
    fail "$name" "tools/list $(rcmsg $rc) $(reason "$err")$(reason "$out")"; return
  fi
  # same call in the same era (this CLI only takes key=value arguments)
  local -a targs
  mapfile -t targs < <(node -e 'const a=JSON.parse(process.argv[1]);const k=Object.keys(a);if(k.length){console.log("--tool-arg");for(const x of k)console.log(x+"="+(typeof a[x]==="string"?a[x]:JSON.stringify(a[x])))}' "$PROBE_ARGS")
  in_home "$h" "$NODE22" "$INSPECTOR_OLD" "${target[@]}" --method tools/call --tool-name "$PROBE_TOOL" \
    "${targs[@]}" >"$out" 2>"$err"; rc=$?
  if [ $rc -ne 0 ] || [ -z "$(json_get "$out" 'Array.isArray(r.content) && r.isError!==true || undefined')" ]; then
    fail "$name" "tools/call $PROBE_TOOL $(rcmsg $rc) $(reason "$err")$(reason "$out")"; return
  fi
  pass "$name"
}

# ---------------------------------------------------------------- Codex app-server
cat >"$WORK/codex-drive.js" <<'EOF'
// Drives `codex app-server` over its stdio JSON-RPC: initialize, initialized,
// mcpServerStatus/list, thread/start, mcpServer/tool/call. Prints one JSON summary.
const { spawn } = require('node:child_process');
const [bin, server, tool, argsJson, cwd, limitMs] = process.argv.slice(2);
const out = { status: null, call: null };
const done = (code) => { process.stdout.write(JSON.stringify(out) + '\n'); try { p.kill('SIGTERM'); } catch {} setTimeout(() => process.exit(code), 300).unref(); };
const p = spawn(bin, ['app-server'], { stdio: ['pipe', 'pipe', 'ignore'], cwd, env: process.env });
p.on('error', (e) => { out.status = out.status ?? { ok: false, reason: 'spawn: ' + e.message }; done(1); });
p.on('exit', (c) => { if (!out.call) { out.status = out.status ?? { ok: false, reason: `app-server exited ${c}` }; done(1); } });
setTimeout(() => { out.status = out.status ?? { ok: false, reason: 'timed out' }; out.call = out.call ?? { ok: false, reason: 'timed out' }; done(1); }, Number(limitMs)).unref();
let buf = '', id = 0; const pending = new Map();
p.stdout.on('data', (d) => {
  buf += d; let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, i); buf = buf.slice(i + 1);
    let m; try { m = JSON.parse(line); } catch { continue; }
    if (m.method && m.id !== undefined) { // a request from codex (approval/elicitation): decline
      send({ jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'not supported by check-clients' } });
    } else if (m.id !== undefined && pending.has(m.id)) { pending.get(m.id)(m); pending.delete(m.id); }
  }
});
const send = (o) => p.stdin.write(JSON.stringify(o) + '\n');
const req = (method, params) => new Promise((res) => { const i = ++id; pending.set(i, res); send({ jsonrpc: '2.0', id: i, method, params }); });
const err = (r) => r.error ? `${r.error.code}: ${r.error.message}` : null;
(async () => {
  let r = await req('initialize', { clientInfo: { name: 'hoody-check-clients', title: null, version: '0' }, capabilities: { experimentalApi: true, requestAttestation: false } });
  if (err(r)) { out.status = { ok: false, reason: 'initialize ' + err(r) }; return done(1); }
  send({ jsonrpc: '2.0', method: 'initialized' });
  r = await req('mcpServerStatus/list', { serverName: server });
  const s = r.result?.data?.find((x) => x.name === server);
  if (err(r) || !s) out.status = { ok: false, reason: err(r) ?? `server ${server} not in status list` };
  else if (s.toolsError) out.status = { ok: false, reason: 'toolsError: ' + s.toolsError };
  else if (!s.serverInfo) out.status = { ok: false, reason: `not initialized (runtimeStatus ${s.runtimeStatus})` };
  else if (!s.tools?.[tool]) out.status = { ok: false, reason: `${Object.keys(s.tools ?? {}).length} tools, none named ${tool}` };
  else out.status = { ok: true, tools: Object.keys(s.tools).length, templates: s.resourceTemplates?.length ?? 0, server: s.serverInfo };
  r = await req('thread/start', { ephemeral: true, cwd });
  const threadId = r.result?.thread?.id;
  if (!threadId) { out.call = { ok: false, reason: 'thread/start ' + (err(r) ?? 'no thread id') }; return done(1); }
  r = await req('mcpServer/tool/call', { threadId, server, tool, arguments: JSON.parse(argsJson) });
  if (err(r)) out.call = { ok: false, reason: err(r) };
  else if (r.result?.isError) out.call = { ok: false, reason: 'isError: ' + JSON.stringify(r.result.content).slice(0, 160) };
  else if (!Array.isArray(r.result?.content)) out.call = { ok: false, reason: 'no content in result' };
  else out.call = { ok: true };
  p.stdin.end();
  done(out.status.ok && out.call.ok ? 0 : 1);
})().catch((e) => { out.call = out.call ?? { ok: false, reason: String(e) }; done(1); });
EOF

toml_str() { json_str "$1"; } # a JSON string literal is a valid TOML basic string for these values
codex_check() { # transport
  local t=$1 h cfg res
  h=$(fresh_home); mkdir -p "$h/.codex"; cfg="$h/.codex/config.toml"
  {
    # keep thread/start's model connection on loopback (there is no model here)
    echo 'model_provider = "clientcheck"'
    echo '[model_providers.clientcheck]'
    echo 'name = "clientcheck"'
    echo 'base_url = "http://127.0.0.1:9/v1"'
    echo 'wire_api = "responses"'
    echo '[mcp_servers.hoody]'
    if [ "$t" = stdio ]; then
      echo "command = $(toml_str "${CMD[0]}")"
      echo "args = $(json_array "${CMD[@]:1}")"
      echo "cwd = $(toml_str "$ROOT")"
    else
      echo "url = $(toml_str "$URL")"
      [ -n "$BEARER" ] && echo 'bearer_token_env_var = "HOODY_CHECK_BEARER"'
    fi
    echo 'startup_timeout_sec = 30'
    echo "tool_timeout_sec = $TMO"
  } >"$cfg"
  # shellcheck disable=SC2046
  res=$(cd "$h/work" && env $(client_env "$h") HOODY_CHECK_BEARER="$BEARER" timeout -k 5 "$((TMO + 10))" \
    node "$WORK/codex-drive.js" "$CODEX" hoody "$PROBE_TOOL" "$PROBE_ARGS" "$h/work" "$((TMO * 1000))" 2>/dev/null | tail -n1)
  echo "$res" >"$h/res.json"
  if [ "$(json_get "$h/res.json" 'r.status && r.status.ok')" = true ]; then pass "codex-$t"; else
    fail "codex-$t" "mcpServerStatus/list: $(json_get "$h/res.json" 'r.status && r.status.reason' || echo "no result from the driver")"; fi
  if [ "$(json_get "$h/res.json" 'r.call && r.call.ok')" = true ]; then pass "codex-call-$t"; else
    fail "codex-call-$t" "mcpServer/tool/call $PROBE_TOOL: $(json_get "$h/res.json" 'r.call && r.call.reason' || echo no result)"; fi
}

# ---------------------------------------------------------------- Claude Code
claude_check() { # transport
  local t=$1 h out name="claude-$1" line
  h=$(fresh_home); out="$h/out.txt"
  if [ "$t" = stdio ]; then
    in_home "$h" "$CLAUDE" mcp add -s local hoody -- "${CMD[@]}" >"$out" 2>&1
  else
    local -a hdr=(); [ -n "$BEARER" ] && hdr=(--header "Authorization: Bearer $BEARER")
    in_home "$h" "$CLAUDE" mcp add -s local --transport http hoody "$URL" "${hdr[@]}" >"$out" 2>&1
  fi
  # exit code is 0 even when the server fails: read the status line
  in_home "$h" "$CLAUDE" mcp list >"$out" 2>&1
  line=$(sed 's/\x1b\[[0-9;]*m//g' "$out" | grep -m1 '^hoody: ')
  if [[ "$line" =~ (✔|-)\ Connected ]]; then pass "$name"; else
    fail "$name" "claude mcp list: ${line:-$(reason "$out")}"; fi
}

# ---------------------------------------------------------------- opencode
opencode_check() { # transport
  local t=$1 h out name="opencode-$1" line
  h=$(fresh_home); out="$h/out.txt"
  if [ "$t" = stdio ]; then
    echo "{\"mcp\":{\"hoody\":{\"type\":\"local\",\"command\":$CMD_JSON}}}" >"$h/work/opencode.json"
  else
    local headers=""; [ -n "$BEARER" ] && headers=",\"headers\":{\"Authorization\":$(json_str "Bearer $BEARER")}"
    echo "{\"mcp\":{\"hoody\":{\"type\":\"remote\",\"url\":$(json_str "$URL")$headers}}}" >"$h/work/opencode.json"
  fi
  in_home "$h" "$OPENCODE" mcp list >"$out" 2>&1
  line=$(sed 's/\x1b\[[0-9;]*m//g' "$out" | grep -A1 -m1 -E '[✓✗] hoody ' | sed 's/^[│●[:space:]]*//' | tr '\n' ' ')
  if [[ "$line" =~ ✓\ hoody\ connected ]]; then pass "$name"; else
    fail "$name" "opencode mcp list: ${line:-$(reason "$out")}"; fi
}

# ---------------------------------------------------------------- hoody-mcp install <client>
# The client's config is written by `hoody-mcp install` alone (a pre-existing config is merged
# into), then the client lists the server as connected (and Codex calls a tool).
install_check() { # client
  local c=$1 h out name="install-$1" line
  h=$(fresh_home); out="$h/out.txt"
  if [ "$c" = codex ]; then # a config of the user's own to merge into: keep the model on loopback
    mkdir -p "$h/.codex"
    printf '%s\n' 'model_provider = "clientcheck"' '[model_providers.clientcheck]' 'name = "clientcheck"' \
      'base_url = "http://127.0.0.1:9/v1"' 'wire_api = "responses"' >"$h/.codex/config.toml"
  fi
  if ! in_home "$h" node "$ROOT/dist/bin/cli.js" install "$c" --command "${CMD[0]}" -- "${CMD[@]:1}" >"$out" 2>&1; then
    fail "$name" "hoody-mcp install $c: $(reason "$out")"; return
  fi
  case $c in
    claude-code)
      in_home "$h" "$CLAUDE" mcp list >"$out" 2>&1
      line=$(sed 's/\x1b\[[0-9;]*m//g' "$out" | grep -m1 '^hoody: ')
      if [[ "$line" =~ (✔|-)\ Connected ]]; then pass "$name"; else fail "$name" "claude mcp list: ${line:-$(reason "$out")}"; fi ;;
    opencode)
      in_home "$h" "$OPENCODE" mcp list >"$out" 2>&1
      line=$(sed 's/\x1b\[[0-9;]*m//g' "$out" | grep -A1 -m1 -E '[✓✗] hoody ' | sed 's/^[│●[:space:]]*//' | tr '\n' ' ')
      if [[ "$line" =~ ✓\ hoody\ connected ]]; then pass "$name"; else fail "$name" "opencode mcp list: ${line:-$(reason "$out")}"; fi ;;
    codex)
      # shellcheck disable=SC2046
      (cd "$h/work" && env $(client_env "$h") timeout -k 5 "$((TMO + 10))" \
        node "$WORK/codex-drive.js" "$CODEX" hoody "$PROBE_TOOL" "$PROBE_ARGS" "$h/work" "$((TMO * 1000))" 2>/dev/null | tail -n1) >"$h/res.json"
      if [ "$(json_get "$h/res.json" 'r.status && r.status.ok && r.call && r.call.ok')" = true ]; then pass "$name"; else
        fail "$name" "codex: $(json_get "$h/res.json" '(r.status && r.status.reason) || (r.call && r.call.reason)' || echo "no result from the driver")"; fi ;;
  esac
}

# ---------------------------------------------------------------- run
if [ "$INSTALL_ONLY" = 1 ]; then
  if [ $have_claude = 1 ]; then install_check claude-code; else fail install-claude-code "claude-code not installed"; fi
  if [ $have_codex = 1 ]; then install_check codex; else fail install-codex "codex not installed"; fi
  if [ $have_opencode = 1 ]; then install_check opencode; else fail install-opencode "opencode not installed"; fi
  echo "clients: $PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]; exit
fi
transports=(stdio)
[ "$REMOTE" = 1 ] && transports=() # the hosted form is HTTP only
[ -n "$URL" ] && transports+=(http)

for t in "${transports[@]}"; do
  if [ $have_inspector_old = 1 ]; then inspector_old_list "$t"; else fail "inspector-$t-2025-06-18" "inspector-cli $INSPECTOR_LEGACY_CLI_VERSION not installed (see $INSTALL_LOG)"; fi
  for v in 2025-11-25 2026-07-28; do
    if [ $have_inspector = 1 ]; then
      inspector_list "$t" "$v"; inspector_call "$t" "$v"; inspector_templates "$t" "$v"
    else
      fail "inspector-$t-$v" "inspector $INSPECTOR_VERSION not installed or no Node >= 22.19 (see $INSTALL_LOG)"
    fi
  done
  if [ $have_codex = 1 ]; then codex_check "$t"; else fail "codex-$t" "codex $CODEX_VERSION not installed (see $INSTALL_LOG)"; fi
  if [ $have_claude = 1 ]; then claude_check "$t"; else fail "claude-$t" "claude-code $CLAUDE_VERSION not installed (see $INSTALL_LOG)"; fi
  if [ "$WITH_OPENCODE" = 1 ]; then
    if [ $have_opencode = 1 ]; then opencode_check "$t"; else fail "opencode-$t" "opencode-ai $OPENCODE_VERSION not installed (see $INSTALL_LOG)"; fi
  fi
done
if [ "$REMOTE" != 1 ]; then
  [ $have_claude = 1 ] && install_check claude-code
  [ $have_codex = 1 ] && install_check codex
  [ $have_opencode = 1 ] && install_check opencode
fi
if [ -z "$URL" ]; then fail "http" "no HTTP endpoint, HTTP checks skipped"; fi

if [ "$SERVER_UP" = 1 ] && ! kill -0 "$SERVER_PID" 2>/dev/null; then
  fail "http-server-alive" "the HTTP server exited during the checks: $(reason "$SERVER_LOG")"
fi

echo "clients: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
