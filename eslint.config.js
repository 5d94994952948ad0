// Lint: @eslint/js and typescript-eslint recommended rules over the TypeScript sources, tests and
// scripts. Unused names prefixed with `_` are deliberate; non-null assertions are allowed because
// `noUncheckedIndexedAccess` makes them the honest way to say "this index exists". Package
// boundaries: a package's files (and the examples) reach another package only as `@jobmon/<pkg>` or
// a subpath its package.json exports, never through its folders — what works in this repository
// must work from an installed node_modules. Tests may import ../../../test-support/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const TS_FILES = [
  'packages/*/src/**/*.ts',
  'packages/*/src/**/*.tsx',
  'packages/*/test/**/*.ts',
  'scripts/**/*.ts',
  'examples/**/*.ts',
];
// Node's globals for the plain-JS files (the `globals` package is not a declared dependency).
const NODE_GLOBALS = Object.fromEntries(
  [
    'process',
    'console',
    'Buffer',
    'URL',
    'URLSearchParams',
    'AbortController',
    'AbortSignal',
    'TextEncoder',
    'TextDecoder',
    'fetch',
    'performance',
    'queueMicrotask',
    'structuredClone',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'clearImmediate',
  ].map((g) => [g, 'readonly']),
);

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'bench/results/**', '.jobmon-test/**'] },
  {
    files: TS_FILES,
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
        },
      ],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['packages/*/src/**/*.ts', 'packages/*/src/**/*.tsx', 'packages/*/test/**/*.ts', 'examples/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@jobmon/*/**',
                '!@jobmon/core/wire-check',
                '!@jobmon/core/system-log',
                '!@jobmon/core/requester',
                '!@jobmon/core/errors',
                '!@jobmon/core/api',
                '!@jobmon/core/states',
                '!@jobmon/web/index.html',
                '!@jobmon/client/connection',
              ],
              message: "Import another package as '@jobmon/<pkg>' or a subpath its package.json exports.",
            },
            {
              regex: String.raw`^(\.\./)+(packages/)?(core|server|client|runner|worker|cli|web)(/|$)`,
              message: "Another package's files are not reachable once installed: import it as '@jobmon/<pkg>'.",
            },
          ],
        },
      ],
      // The same reach through a file URL (how the dummy distributor once found the worker's bin).
      'no-restricted-syntax': [
        'error',
        {
          selector: String.raw`NewExpression[callee.name='URL'] > Literal[value=/^(\.\.\/)+(packages\/)?(core|server|client|runner|worker|cli|web)\//]`,
          message:
            "Another package's files are not reachable once installed: resolve them through '@jobmon/<pkg>' (createRequire(import.meta.url).resolve).",
        },
      ],
    },
  },
  {
    // The bin shims and the benchmark driver are plain Node ESM.
    files: ['packages/*/bin/**/*.js', 'bench/**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'module', globals: NODE_GLOBALS },
  },
);
