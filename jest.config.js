/**
 * Jest runs TypeScript through ts-jest in transpile-only mode; `npm test` type-checks the whole tree with tsc first.
 *
 * Two workers on CI's two cores: most suites wait on emulators, sockets and timers rather than compute, so two
 * files at a time roughly halve the suite's wall time (jest's default on 2 cores is one worker, in band). Every
 * suite starts its own emulators on free ports under its own temporary directory, so suites never share state.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test', '<rootDir>/infra', '<rootDir>/functions', '<rootDir>/local'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 60000,
  maxWorkers: 2,
};
