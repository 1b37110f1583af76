/** @type {import('jest').Config} */
const path = require('node:path');

const libs = [
  'domain',
  'queue-contracts',
  'queue',
  'persistence',
  'blob-store',
  'sandbox',
  'attest',
  'config',
  'telemetry',
  'client',
  'http-contract',
  'runtime',
];

/** What every tier shares: where specs live, the SWC transform and the `@jam/<lib>` paths. */
const shared = {
  testEnvironment: 'node',
  rootDir: __dirname,
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  moduleNameMapper: Object.fromEntries(libs.map((l) => [`^@jam/${l}$`, path.join('<rootDir>', 'libs', l, 'src', 'index.ts')])),
};

/**
 * Test tiers, told apart by file name (docs/architecture.md section 12, "Test tiers"):
 * - unit `*.spec.ts`: one module in the Jest process; no database, Redis, network socket or child
 *   process (test/architecture/test-tiers.spec.ts fails on a unit spec that uses one);
 * - integration `*.integration.spec.ts`: in the Jest process against real PostgreSQL, Redis, an
 *   S3-compatible server, sandbox executors, local HTTP servers or tools run as child processes;
 * - e2e `*.e2e-spec.ts`: the product's own processes (`dist/`, `bin/jam.js`) over HTTP and the CLI.
 * `jest` runs all three; `jest --selectProjects unit` (npm run test:unit) one of them.
 */
module.exports = {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['**/*.spec.ts'], testPathIgnorePatterns: ['/node_modules/', '\\.integration\\.spec\\.ts$'] },
    { ...shared, displayName: 'integration', testMatch: ['**/*.integration.spec.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['**/*.e2e-spec.ts'] },
  ],
  // Global options (Jest reads these only at the top level, not per project).
  rootDir: __dirname,
  maxWorkers: 2,
  // A backstop only (ms): waits inside tests are bounded by progress (test/support/jam-server.ts),
  // so on a busy machine a slow test is not failed for being slow; specs that run processes set more.
  testTimeout: 600000,
  reporters: ['default', '<rootDir>/test/count-reporter.cjs'],
};
