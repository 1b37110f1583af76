// ESLint flat config. `npm run lint` runs it; test/architecture/lint.integration.spec.ts runs it in `npm test`.
// The module boundaries of docs/architecture.md ("Parts and layout") are declared with the Nx tags
// in each project.json and enforced by @nx/enforce-module-boundaries.
'use strict';
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const nx = require('@nx/eslint-plugin');
const prettier = require('eslint-config-prettier');

/** External modules only libs/persistence (and the queue's BullMQ-on-PostgreSQL driver) may import. */
const DATABASE_MODULES = ['typeorm', 'pg', '@electric-sql/*'];
/** What libs/domain may not import: it is pure (no framework, no IO). */
const DOMAIN_BANNED = [
  '@nestjs/*',
  'typeorm',
  'pg',
  'bullmq',
  'ioredis',
  'fs',
  'node:fs',
  'net',
  'node:net',
  'http',
  'node:http',
  '@electric-sql/*',
  '@aws-sdk/*',
];

/** @nx/enforce-module-boundaries with the tag rules of docs/architecture.md; `allow` lists exempt import paths. */
function boundaries(allow) {
  return [
    'error',
    {
      enforceBuildableLibDependency: false,
      allow,
      depConstraints: [
        // apps never import apps; the launcher composes them
        { sourceTag: 'type:launcher', onlyDependOnLibsWithTags: ['type:app', 'type:lib'] },
        { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
        // libs never import apps
        { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
        // domain depends on nothing but itself, and on no framework or IO module
        { sourceTag: 'scope:domain', onlyDependOnLibsWithTags: ['scope:domain'], bannedExternalImports: DOMAIN_BANNED },
        // the gateway never imports the sandbox: it never runs guest code
        { sourceTag: 'role:gateway', notDependOnLibsWithTags: ['scope:sandbox'] },
        // only persistence touches the database driver and ORM (projects without the tag: persistence, queue)
        { sourceTag: 'db:none', bannedExternalImports: DATABASE_MODULES },
      ],
    },
  ];
}

module.exports = [
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.nx/**', 'tmp/**', 'services/**', '**/build/**', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { plugins: { '@nx': nx } },
  {
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    // boundaries are about production code; specs and test helpers may reach across (test/, bench/ are not projects)
    ignores: ['**/*.spec.ts', '**/*.e2e-spec.ts', '**/test/**', '**/testing/**'],
    rules: { '@nx/enforce-module-boundaries': boundaries([]) },
  },
  {
    // The embedded launcher composes the role apps (docs/architecture.md, "Parts and layout"); it is the only
    // module that imports apps, by relative path until the roles have entry points of their own.
    files: ['apps/standalone/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries([
        '../../gateway/src',
        '../../refine-worker/src',
        '../../attestation/src',
        '../../accumulate-worker/src',
        '../../janitor/src',
      ]),
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      // the code base uses `_`-prefixed names for deliberately unused parameters
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // a `let` assigned once after a closure that reads it is declared (instance exports) cannot be const
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // ambient declarations merge into interfaces and globals: empty interfaces and `declare var` are how
    files: ['**/*.d.ts'],
    rules: { '@typescript-eslint/no-empty-object-type': 'off', 'no-var': 'off' },
  },
  {
    // tests poke at untyped JSON answers and private shapes on purpose
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  prettier,
];
