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

module.exports = {
  testEnvironment: 'node',
  rootDir: __dirname,
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
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
  maxWorkers: 2,
  // A backstop only (ms): waits inside tests are bounded by progress (test/support/jam-server.ts),
  // so on a busy machine a slow test is not failed for being slow; specs that run processes set more.
  testTimeout: 600000,
  reporters: ['default', '<rootDir>/test/count-reporter.cjs'],
};
