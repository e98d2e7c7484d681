// Builds the app: esbuild bundles the Node parts (main, preload, CLI, writer) and Vite builds the React renderer.
// esbuild rather than electron-vite: the Node parts must run under plain Node (CLI, browser mode, writer) as well as Electron,
// and one small script keeps that visible; Vite still builds the renderer.
import { build as esbuild } from 'esbuild';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const quiet = args.has('--quiet');
const log = (text) => quiet || console.log(text);

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  legalComments: 'none',
};

/** Node entry points: ESM with dependencies left to node_modules (native modules, etcher-sdk). */
const nodeEntries = [
  ['electron/main/index.ts', 'out/main/index.mjs'],
  ['electron/cli/index.ts', 'out/cli/index.mjs'],
  ['electron/writer/index.ts', 'out/writer/index.mjs'],
].filter(([entry]) => existsSync(path.join(root, entry)));

const started = Date.now();
await Promise.all([
  ...nodeEntries.map(([entry, outfile]) =>
    esbuild({
      ...common,
      entryPoints: [entry],
      outfile,
      format: 'esm',
      packages: 'external',
      external: ['electron'],
    }),
  ),
  // The sandboxed preload can only require 'electron': bundle everything else into one CommonJS file.
  esbuild({
    ...common,
    entryPoints: ['electron/preload/index.ts'],
    outfile: 'out/preload/index.cjs',
    format: 'cjs',
    external: ['electron'],
  }),
]);
log(`built Node bundles in ${Date.now() - started} ms`);

if (!args.has('--node-only')) {
  const { build: viteBuild } = await import('vite');
  const t = Date.now();
  await viteBuild({ root: path.join(root, 'renderer'), configFile: path.join(root, 'vite.config.ts'), logLevel: quiet ? 'error' : 'warn' });
  log(`built renderer in ${Date.now() - t} ms`);
}
