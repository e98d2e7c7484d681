// Lint: typescript-eslint on every source folder, plus the layering of ARCHITECTURE.md at error level.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

/** Node's own modules by their bare names, from Node itself (fs, v8, worker_threads...); the node: forms are a pattern. */
const nodeBuiltins = (message) => [...builtinModules.filter((name) => !name.startsWith('_')).map((name) => ({ name, message }))];
const noRendererImports = { group: ['**/renderer/**'], message: 'Nothing imports renderer/.' };
/** Globals that exist only under Node: a pure or sandboxed layer must not reach for them. */
const nodeGlobals = (message) =>
  ['process', 'Buffer', 'require', '__dirname', '__filename', 'global', 'setImmediate'].map((name) => ({ name, message }));
/** Packages shared/ may import: it runs in every process, so only pure libraries made for all of them. */
export const sharedPackages = ['zod'];

const rendererNoNode = 'The renderer has no Node: ask the host through the api client.';
const rendererPaths = [
  { name: 'electron', message: 'The renderer is sandboxed: it talks to the host through window.imager only.' },
  ...nodeBuiltins(rendererNoNode),
];
const rendererPatterns = [
  { group: ['**/electron/**'], message: 'The renderer never imports electron/: use the api client.' },
  // modules that exist only with the prefix (node:test, node:sea) are not in builtinModules on every Node
  { regex: '^node:', message: rendererNoNode },
];

/** A folder of code that runs under plain Node: no Electron, no renderer/, and whatever else `extra` forbids. */
const plainNode = (files, ...extra) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: [{ name: 'electron', message: 'Only electron/main and electron/preload import electron; this code runs under plain Node.' }],
        patterns: [
          { group: ['electron/*'], message: 'Only electron/main and electron/preload import electron.' },
          noRendererImports,
          ...extra,
        ],
      },
    ],
  },
});

/** Layering rules: which folder may import what. Exported so the layering test can check they bite. */
export const layering = [
  {
    files: ['shared/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/electron/**', '**/renderer/**', '**/test/**', '**/bench/**', '**/scripts/**'],
              message: 'shared/ imports nothing outside shared/.',
            },
            {
              regex: `^(?!\\.{1,2}/)(?!(${sharedPackages.join('|')})(/|$))`,
              message: `shared/ is pure TypeScript that runs in every process: no Node built-ins, no Electron, no UI, no package but ${sharedPackages.join(', ')}.`,
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...nodeGlobals('shared/ runs in the renderer too: no Node globals.'),
        ...['window', 'document', 'navigator', 'localStorage', 'location'].map((name) => ({
          name,
          message: 'shared/ runs under Node too: no DOM.',
        })),
      ],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': ['error', { paths: rendererPaths, patterns: rendererPatterns }],
      'no-restricted-globals': ['error', ...nodeGlobals(rendererNoNode)],
    },
  },
  {
    // GitHub Desktop's dispatcher habit: views ask renderer/src/actions.ts, which alone talks to the api client
    files: ['renderer/src/{steps,components,wizard}/**/*.{ts,tsx}', 'renderer/src/App.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: rendererPaths,
          patterns: [
            ...rendererPatterns,
            { group: ['**/api/client'], message: 'Views call the host through renderer/src/actions.ts, not the api client.' },
          ],
        },
      ],
    },
  },
  plainNode(['electron/services/**/*.ts'], {
    regex: '^(\\.\\./)+(main|web|cli|preload|writer)(/|$)',
    message: 'Services sit below main, web and the CLI and talk to the writer over its protocol: they never import them.',
  }),
  plainNode(['electron/writer/**/*.ts'], {
    regex: '^(\\.\\./)+(services|main|web|cli|preload)(/|$)',
    message: 'The writer is its own process: it imports shared/ and electron/node/ only (move what both need to electron/node/).',
  }),
  plainNode(['electron/node/**/*.ts'], {
    regex: '^(\\.\\./)+(services|writer|main|web|cli|preload)(/|$)',
    message: 'electron/node/ is below the services and the writer: it imports shared/ only.',
  }),
  plainNode(['electron/web/**/*.ts']),
  plainNode(['electron/cli/**/*.ts'], {
    regex: '^(\\.\\./)+services/[^/]+/',
    message: 'The CLI calls each domain through its front door (services/DOMAIN, its index.ts), not its internals.',
  }),
  {
    files: ['electron/main/**/*.ts', 'electron/preload/**/*.ts', 'test/**/*.{ts,tsx}', 'bench/**/*.ts', 'scripts/**/*.{ts,mjs}'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [noRendererImports] }],
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
