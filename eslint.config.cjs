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

/**
 * @nx/enforce-module-boundaries with the tag rules of docs/architecture.md; `allow` lists exempt import paths;
 * `gatewayMayRunChecks` drops the gateway's no-sandbox rule (only for the gateway process's entry point).
 */
function boundaries(allow, gatewayMayRunChecks = false) {
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
        ...(gatewayMayRunChecks ? [] : [{ sourceTag: 'role:gateway', notDependOnLibsWithTags: ['scope:sandbox'] }]),
        // only persistence touches the database driver and ORM (projects without the tag: persistence, queue)
        { sourceTag: 'db:none', bannedExternalImports: DATABASE_MODULES },
      ],
    },
  ];
}

module.exports = [
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.nx/**', 'tmp/**', 'services/**', 'sdk/**', '**/build/**', '**/*.js', '**/*.cjs', '**/*.mjs'] },
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
    // The embedded launcher composes the role apps' role modules (docs/architecture.md, "Parts and layout"); it is
    // the only module that imports apps. By relative path: apps are not libraries, so they get no `@jam/*` alias
    // (tsconfig paths and Jest's moduleNameMapper list libs only), and this exemption names the five it may import.
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
    // The gateway process's entry point starts the registration code-check executors (@jam/sandbox's
    // startCodeChecks) and hands the gateway role a check function, as the launcher does: the guest code
    // runs in those executor processes, and no other gateway file may reach the sandbox (docs/architecture.md section 3).
    files: ['apps/gateway/src/main.ts'],
    rules: { '@nx/enforce-module-boundaries': boundaries([], true) },
  },
  {
    // Short functions (docs/architecture.md section 12): production code only; specs, test helpers and benches may run long.
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.e2e-spec.ts', '**/test/**', '**/testing/**', 'libs/queue/src/job-queue.contract.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 120, skipBlankLines: false, skipComments: false, IIFEs: true }] },
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
