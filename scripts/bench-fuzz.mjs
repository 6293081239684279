#!/usr/bin/env node
// npm run bench:fuzz — the fuzz suite (test/fuzz) with its figures merged into bench-results.json
// under `fuzz`: cases, refusals, exits, stack traces, leaks, hangs and peak RSS per transport.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(tmpdir(), `fuzz-figures-${process.pid}.json`);
const r = spawnSync('npx', ['vitest', 'run', 'test/fuzz'], { cwd: root, stdio: 'inherit', env: { ...process.env, FUZZ_REPORT: out } });
if (!existsSync(out)) {
  console.error('bench:fuzz: the fuzz suite wrote no figures');
  process.exit(1);
}
const file = join(root, 'bench-results.json');
const results = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
results.fuzz = { at: new Date().toISOString(), passed: r.status === 0, ...JSON.parse(readFileSync(out, 'utf8')) };
rmSync(out, { force: true });
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`bench:fuzz: figures merged into bench-results.json (suite ${r.status === 0 ? 'passed' : 'FAILED'})`);
process.exit(r.status ?? 1);
