#!/usr/bin/env bash
# npm run conformance: the official MCP conformance suite (@modelcontextprotocol/conformance, pinned)
# against both transports of the built server with --sim: HTTP directly (--url), stdio through
# scripts/stdio-bridge.mjs (the suite drives servers by URL only). Scenarios that need the
# reference server's own fixtures (test_* tools, prompts and test:// resources) are the expected
# failures in scripts/conformance-expected*.yaml; anything else failing, or a listed one passing,
# fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
SUITE=(npx -y -p @modelcontextprotocol/conformance@0.1.13 conformance server)
OUT=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$OUT"' EXIT

wait_for() { # file pattern → first match
  for _ in $(seq 1 150); do
    if m=$(grep -oE "$2" "$1" 2>/dev/null | head -1) && [ -n "$m" ]; then echo "$m"; return 0; fi
    sleep 0.1
  done
  echo "no '$2' in $1" >&2; cat "$1" >&2; return 1
}

node dist/bin/cli.js --http --port 0 --sim 2>"$OUT/http.log" & pids+=($!)
http_url=$(wait_for "$OUT/http.log" 'http://127\.0\.0\.1:[0-9]+/mcp')
node scripts/stdio-bridge.mjs >"$OUT/bridge.log" 2>&1 & pids+=($!)
stdio_url=$(wait_for "$OUT/bridge.log" 'http://127\.0\.0\.1:[0-9]+/mcp')

status=0
echo "== HTTP ($http_url)"
"${SUITE[@]}" --url "$http_url" --expected-failures scripts/conformance-expected.yaml -o "$OUT/http" || status=1
echo "== stdio (through the bridge)"
"${SUITE[@]}" --url "$stdio_url" --expected-failures scripts/conformance-expected-stdio.yaml -o "$OUT/stdio" || status=1
exit $status
