// Lint: typescript-eslint on every source folder, plus the layering of ARCHITECTURE.md at error level.
import js from '@eslint/js';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises',
  'http', 'https', 'module', 'net', 'os', 'path', 'process', 'readline', 'stream', 'stream/promises',
  'timers', 'tls', 'tty', 'url', 'util', 'worker_threads', 'zlib',
];
const nodeBuiltinPatterns = ['node:*', ...nodeBuiltins];

const rendererPaths = [{ name: 'electron', message: 'The renderer is sandboxed: it talks to the host through window.imager only.' }];
const rendererPatterns = [
  { group: ['**/electron/**'], message: 'The renderer never imports electron/: use the api client.' },
  { group: nodeBuiltinPatterns, message: 'The renderer has no Node: ask the host through the api client.' },
];

/** Layering rules: which folder may import what. Exported so the layering test can check they bite. */
export const layering = [
  {
    files: ['shared/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'shared/ is pure TypeScript: no Electron.' }],
        patterns: [
          { group: ['**/electron/**', '**/renderer/**', '**/test/**'], message: 'shared/ imports nothing outside shared/.' },
          { group: nodeBuiltinPatterns, message: 'shared/ is pure TypeScript: no Node built-ins (it runs in the renderer too).' },
          { group: ['react', 'react-dom', 'react/*', 'react-dom/*'], message: 'shared/ has no UI code.' },
        ],
      }],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': ['error', { paths: rendererPaths, patterns: rendererPatterns }],
    },
  },
  {
    // GitHub Desktop's dispatcher habit: views ask renderer/src/actions.ts, which alone talks to the api client
    files: ['renderer/src/{steps,components,wizard}/**/*.{ts,tsx}', 'renderer/src/App.tsx'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: rendererPaths,
        patterns: [...rendererPatterns, { group: ['**/api/client'], message: 'Views call the host through renderer/src/actions.ts, not the api client.' }],
      }],
    },
  },
  {
    files: ['electron/services/**/*.ts', 'electron/writer/**/*.ts', 'electron/web/**/*.ts', 'electron/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'Only electron/main and electron/preload import electron; this code runs under plain Node.' }],
        patterns: [
          { group: ['electron/*'], message: 'Only electron/main and electron/preload import electron.' },
          { group: ['**/renderer/**'], message: 'Nothing imports renderer/.' },
        ],
      }],
    },
  },
  {
    files: ['electron/main/**/*.ts', 'electron/preload/**/*.ts', 'test/**/*.{ts,tsx}', 'bench/**/*.ts', 'scripts/**/*.{ts,mjs}'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/renderer/**'], message: 'Nothing imports renderer/.' }],
      }],
    },
  },
];

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-results/**', 'release/**', '**/*.d.ts', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
  },
  ...layering,
);
