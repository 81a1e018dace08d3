/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  snapshotSerializers: ['<rootDir>/test/support/template-serializer.ts'],
  maxWorkers: 2,
  // Speed is measured by `npm run bench`, not by timed tests: a first verification of an assembly
  // (the IAM engine's decisions, cached after) takes seconds on a loaded two-core machine.
  testTimeout: 30_000,
};
