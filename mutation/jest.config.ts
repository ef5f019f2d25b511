import type { Config } from 'jest';
import base from '../jest.config';

/**
 * The tests StrykerJS runs against each mutant: the unit tests of the folders it mutates
 * (see stryker.config.mjs). The loopback, impaired-network and real-peer suites stay out:
 * they take seconds per run, and a mutant in these folders is for the unit tests to kill.
 */
// Ports of their own (7500 to 19999), apart from a jest run's (20000 and up) on the same machine.
process.env['SEP_TEST_PORT_BASE'] ??= '7500';

const config: Config = {
  ...base,
  rootDir: '..',
  roots: ['<rootDir>/packages/media/test', '<rootDir>/packages/policy/test', '<rootDir>/packages/config/test'],
  testMatch: [
    '<rootDir>/packages/media/test/{codecs,jitter,rtp,quality,dtmf,sdp}/**/*.test.ts',
    '<rootDir>/packages/policy/test/**/*.test.ts',
    '<rootDir>/packages/config/test/**/*.test.ts',
  ],
  // Out of the mutation run: the allocation tests (the instrumented code is not the code they
  // measure), the stream test that runs 6 s of real sockets per mutant, and the test that reads
  // the other packages' sources for the settings they use (instrumented, they read differently).
  testNamePattern: '^(?!.*(without allocating|allocates nothing per packet|frames the jitter buffer discards as too late|is read by code outside the config package)).*$',
  reporters: ['default'],
};

export default config;
