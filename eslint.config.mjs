import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['node_modules/', 'build/', 'cdk.out/', 'coverage/', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Read the environment only in bin/ or the config loader.',
        },
      ],
    },
  },
  {
    // Entry points: the app, the scripts, the functions' handlers (their environment is their config).
    files: [
      'bin/**/*.ts',
      'lib/config/load.ts',
      'lib/functions/*/handler.ts',
      'scripts/**/*.ts',
      'test/**/*.ts',
    ],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // jest's asymmetric matchers (expect.objectContaining and the like) are typed any.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  prettier,
);
