// Lint: @eslint/js and typescript-eslint recommended rules over the TypeScript sources, tests and
// scripts. Unused names prefixed with `_` are deliberate; non-null assertions are allowed because
// `noUncheckedIndexedAccess` makes them the honest way to say "this index exists".
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const TS_FILES = ['packages/*/src/**/*.ts', 'packages/*/test/**/*.ts', 'scripts/**/*.ts', 'examples/**/*.ts'];
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
    // The bin shims and the benchmark driver are plain Node ESM.
    files: ['packages/*/bin/**/*.js', 'bench/**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'module', globals: NODE_GLOBALS },
  },
);
