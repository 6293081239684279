// Bundles the CLI into dist/bin: Node 20 spends much of a cold start resolving and compiling the
// SDK's and zod's hundreds of ESM files; one bundle starts ~30% faster (see bench-results.json).
// The simulator and each transport stay separate chunks, loaded only when used.
// Native packages stay external: sharp (src/mcp/image.ts) loads its platform's libvips binary at
// run time, so the bundle leaves `import('sharp')` for Node to resolve from node_modules, on first
// use only. The options are exported so a test can bundle with exactly them.
import { rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

export const options = {
  entryPoints: ['src/cli.ts'],
  outdir: 'dist/bin',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
  external: ['sharp', 'playwright-core', 'sql.js'],
  minifyWhitespace: true,
  minifySyntax: true,
  // Some dependencies call require() for Node built-ins; give the ESM bundle one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // Chunk names carry content hashes: start empty so chunks of earlier builds do not pile up.
  rmSync(options.outdir, { recursive: true, force: true });
  await build(options);
}
