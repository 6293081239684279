// Bundles the CLI into dist/bin: Node 20 spends much of a cold start resolving and compiling the
// SDK's and zod's hundreds of ESM files; one bundle starts ~30% faster (see bench-results.json).
// The simulator and each transport stay separate chunks, loaded only when used.
// Native packages stay external: sharp (src/mcp/image.ts) loads its platform's libvips binary at
// run time, so the bundle leaves `import('sharp')` for Node to resolve from node_modules, on first
// use only.
import { build } from 'esbuild';

await build({
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
  external: ['sharp'],
  // Some dependencies call require() for Node built-ins; give the ESM bundle one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
