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
  // (the IAM engine's decisions, cached after) takes seconds, and two of them under a loaded
  // two-core machine can take half a minute: the limit is there to stop a hang, not to time.
  testTimeout: 120_000,
};
