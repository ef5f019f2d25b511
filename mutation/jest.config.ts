import type { Config } from 'jest';
import base from '../jest.config';

/**
 * The tests StrykerJS runs against each mutant: the unit tests of the folders it mutates
 * (see stryker.config.mjs). The loopback, impaired-network and real-peer suites stay out:
 * they take seconds per run, and a mutant in these folders is for the unit tests to kill.
 */
// Ports of their own (7500 to 19999), apart from a jest run's (20000 and up) on the same machine.
process.env['SEP_TEST_PORT_BASE'] ??= '7500';

// Each group's mutants run against that folder's own unit tests: every mutant run loads only
// those files (loading all of them cost seconds per mutant).
const tests: Record<string, string> = {
  codecs: 'packages/media/test/codecs',
  jitter: 'packages/media/test/jitter',
  rtp: 'packages/media/test/rtp',
  quality: 'packages/media/test/quality',
  dtmf: 'packages/media/test/dtmf',
  sdp: 'packages/media/test/sdp',
  srtp: 'packages/media/test/srtp',
  ice: 'packages/media/test/ice',
  policy: 'packages/policy/test',
  config: 'packages/config/test',
};
const group = process.env['SEP_MUTATION_GROUP'];
const folders = group === undefined ? Object.values(tests) : [tests[group] ?? 'no-such-group'];

const config: Config = {
  ...base,
  rootDir: '..',
  roots: folders.map((folder) => `<rootDir>/${folder}`),
  testMatch: ['**/*.test.ts'],
  // Not about parsing, and seconds to load for every mutant: the config package's checks of
  // its docs, exported types and surface, and of which settings other packages read.
  testPathIgnorePatterns: ['/node_modules/', '/packages/config/test/(applied|docs|types|public-surface)\\.test\\.ts$'],
  // A mutant that makes a test wait for what never comes fails in 2.5 s (not jest's 5 s, which
  // StrykerJS counts as a timeout and answers by starting a new test process).
  testTimeout: 2500,
  // Out of the mutation run: the allocation tests (the instrumented code is not the code they
  // measure), the stream test that runs 6 s of real sockets per mutant, and the test that reads
  // the other packages' sources for the settings they use (instrumented, they read differently).
  testNamePattern: '^(?!.*(without allocating|allocates nothing per packet|frames the jitter buffer discards as too late|is read by code outside the config package)).*$',
  reporters: ['default'],
};

export default config;
