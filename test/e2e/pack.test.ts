/**
 * The package as users get it (.ci/pack-check.sh): `npm pack`, installed into an empty directory
 * from the tarball, and `npx hoody-mcp --sim` from there answers tools/list and tool calls.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../.ci/pack-check.sh', import.meta.url));

it('the packed tarball installs into an empty directory and serves tools/list and tool calls', () => {
  const r = spawnSync('bash', [SCRIPT], { encoding: 'utf8', timeout: 150_000 });
  const out = `${r.stdout}\n${r.stderr}`;
  expect(out, out).toMatch(/^pack-check: PASS$/m);
  expect(out).not.toMatch(/^FAIL /m);
}, 160_000);
