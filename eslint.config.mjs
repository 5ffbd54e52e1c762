// Lint: typescript-eslint's type-aware recommended rules over every TypeScript file in the repo,
// with the few deliberate departures below, each with its reason.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['.scratch/**', '**/dist/**', '**/node_modules/**', '.tsbuild/**', 'coverage/**', 'test/artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['packages/client/bench/*.tsx'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Hostile input is normal input: the text checks match control characters on purpose.
      'no-control-regex': 'off',
      // An async function that does not await still returns a promise, which is what the port it
      // implements (a store, a transport, a test double) asks for; the rule reports style, not bugs.
      '@typescript-eslint/require-await': 'off',
      // `_name` marks a parameter a signature needs and the body does not use.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // Tests and benchmarks read what servers answer (JSON.parse: `any`) and check it with
    // `expect` or by printing it: the assertion is the type check there. Sources stay strict.
    files: ['test/**', 'bench/**', '**/*.test.ts', '**/*.test.tsx', 'packages/client/bench/**'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // The store runs raw SQL (kysely's sql``), typed per query where its rows are read: a
    // Kysely typed by table would not check that SQL, so the handle is Kysely<any> on purpose.
    files: ['packages/server/src/store/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The dashboard's browser scripts and the tools' own .mjs files: plain JavaScript, no types.
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['packages/dashboard/src/public/**/*.js'],
    languageOptions: {
      globals: {
        window: 'readonly',
        document: 'readonly',
        fetch: 'readonly',
        location: 'readonly',
        EventSource: 'readonly',
        WebSocket: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        Blob: 'readonly',
        Intl: 'readonly',
        performance: 'readonly',
        requestAnimationFrame: 'readonly',
        navigator: 'readonly',
        localStorage: 'readonly',
        HTMLElement: 'readonly',
        Date: 'readonly',
      },
    },
  },
  {
    files: ['**/*.mjs', 'bin/**'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        Buffer: 'readonly',
        import: 'readonly',
      },
    },
  },
);
