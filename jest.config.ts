import type { Config } from 'jest';

const config: Config = {
  testEnvironment: 'node',
  globalSetup: '<rootDir>/scripts/jest-global-setup.ts',
  roots: ['<rootDir>/packages', '<rootDir>/test'],
  testMatch: ['**/test/**/*.test.ts'],
  // sip.js ships ES modules only: let swc turn it into CommonJS for jest like our own sources.
  transformIgnorePatterns: ['/node_modules/(?!sip\\.js/)'],
  transform: {
    '^.+\\.[jt]s$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
  },
  moduleNameMapper: {
    // A package's optional entry point (`exports["./testing"]`), before the main one.
    '^@sip-endpoint/([^/]+)/testing$': '<rootDir>/packages/$1/src/testing.ts',
    '^@sip-endpoint/([^/]+)$': '<rootDir>/packages/$1/src/index.ts',
  },
  reporters: ['default', '<rootDir>/scripts/jest-summary-reporter.cjs'],
  // libwebrtc's Node binding (@roamhq/wrtc, the WebRTC engine's tests) crashes in Node's own
  // teardown of a process that made an RTCAudioSource (node-webrtc issue 636): jest ends with
  // process.exit() and its result's code instead. Leaks are counted by the tests themselves.
  forceExit: true,
};

export default config;
