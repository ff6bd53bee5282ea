// Lint rules that catch real bugs, not taste (the formatter owns layout). Why each one is here:
// - no-floating-promises / no-misused-promises / await-thenable / require-await-free: an unawaited
//   write or publish loses its error, and an ack could run before the write it waits for;
// - switch-exhaustiveness-check: a new event kind, stage or format must be handled wherever kinds
//   are switched over (no silent default);
// - no-restricted-imports: libraries are reached through `@not/<lib>` only, and no app imports
//   another app, so the layering in docs/architecture.md stays true;
// - no-unused-vars: dead code and forgotten parameters;
// - no-explicit-any: `unknown` at boundaries; narrow it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const crossProject = [
  { group: ['**/libs/*/src/**', '../../libs/**', '../../../libs/**'], message: 'import a library as @not/<lib>, through its index.ts' },
  { group: ['**/apps/*/src/**', '../../apps/**', '../../../apps/**'], message: 'an app is not a library: move shared code to libs/' },
];

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', '.state/**', 'apps/explorer/web/vendor/**', 'libs/events/src/eiffel/eiffel-links.generated.ts'],
  },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test tracks the promises its own describe/it/test return.
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-restricted-imports': ['error', { patterns: crossProject }],
    },
  },
  {
    // Tests and benchmarks drive the apps from outside; they may import an app's module to boot it.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // Tests poke at parsed JSON; `any` there is a shortcut, not a boundary.
    files: ['test/**/*.ts', '**/*.spec.ts', '**/testing/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
