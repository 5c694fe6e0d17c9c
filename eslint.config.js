// Lint: typescript-eslint's recommended rules, plus the purity of domain/ (STYLE.md rule 1).
import tseslint from 'typescript-eslint';

const impure = ['node:*', 'fastify', 'fastify-plugin', '@fastify/*', 'pg', 'slonik', 'kafkajs', '@aws-sdk/*', 'node-vault', 'bcrypt', 'pino'];

export default tseslint.config(
  { ignores: ['node_modules/**', '.local/**', '.tap/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // A promise nobody awaits is an error nobody sees (and, from kafkajs, an unhandled rejection).
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  // Processes do not reach into each other: what two of them share lives in core/ or domain/.
  ...[
    ['command-api/**/*.ts', ['query-api', 'projectors', 'scripts', 'test']],
    ['query-api/**/*.ts', ['command-api', 'projectors', 'scripts', 'test']],
    ['projectors/**/*.ts', ['command-api', 'query-api', 'scripts', 'test']],
    ['core/**/*.ts', ['command-api', 'query-api', 'projectors', 'scripts', 'test']],
    ['scripts/**/*.ts', ['query-api', 'test']],
  ].map(([files, others]) => ({
    files: [files],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: others.map((folder) => ({
            group: [`**/${folder}/**`],
            message: `${folder}/ is another process's code: share it through core/ or domain/.`,
          })),
        },
      ],
    },
  })),
  {
    files: ['eslint.config.js'],
    languageOptions: { parserOptions: { projectService: false } },
    rules: { '@typescript-eslint/no-floating-promises': 'off', '@typescript-eslint/no-misused-promises': 'off' },
  },
  {
    // Tests read arbitrary JSON answers and rows; typing each one would test the types, not the system.
    files: ['test/**/*.ts', '**/*.test.ts'],
    // tap's top-level t.test() calls are awaited by tap itself.
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-floating-promises': 'off' },
  },
  {
    files: ['domain/**/*.ts'],
    ignores: ['domain/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: impure.map((group) => ({ group: [group], message: 'domain/ is pure: no I/O, no framework (STYLE.md).' })) },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name='Date'][property.name='now']", message: 'Time arrives in the command.' },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Time arrives in the command.' },
        { selector: "MemberExpression[object.name='Math'][property.name='random']", message: 'Ids arrive in the command.' },
      ],
    },
  },
);
