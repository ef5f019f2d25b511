// Mutation testing (`npm run test:mutation`): see docs/testing.md for what it covers and the scores.
/* global process */
// One run per group of folders (SEP_MUTATION_GROUP, see scripts/mutation.ts): each group's report
// is written as soon as it is done, and one group can be run again alone.
/** The groups and the files each mutates (scripts/mutation.ts checks a file named alone against them). */
export const groups = {
  codecs: ['packages/media/src/codecs/**/*.ts'],
  jitter: ['packages/media/src/jitter/**/*.ts'],
  rtp: ['packages/media/src/rtp/**/*.ts'],
  quality: ['packages/media/src/quality/**/*.ts'],
  dtmf: ['packages/media/src/dtmf/**/*.ts'],
  sdp: ['packages/media/src/sdp/**/*.ts'],
  srtp: ['packages/media/src/srtp/**/*.ts'],
  ice: ['packages/media/src/ice/**/*.ts'],
  policy: ['packages/policy/src/**/*.ts', '!packages/policy/src/index.ts'],
  config: [
    'packages/config/src/{xml-parse,xml-serialize,load-config,overrides,setting-type,codec-list,host-port,cidr,public-address-spec,log-rotation,headset-pairs,ip-versions,connectivity,config-document,srtp-policy}.ts',
  ],
};
const name = process.env.SEP_MUTATION_GROUP ?? 'codecs';
if (!(name in groups)) throw new Error(`SEP_MUTATION_GROUP is ${name}; it is one of ${Object.keys(groups).join(', ')}`);
// SEP_MUTATION_FILES (comma-separated, files of the group): only these files, in a report of
// their own (reports/mutation/<group>.files.json) that replaces only their results.
const files = (process.env.SEP_MUTATION_FILES ?? '').split(',').filter((file) => file !== '');
const group = { name, mutate: files.length > 0 ? files : groups[name], report: files.length > 0 ? `${name}.files` : name };

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    configFile: 'mutation/jest.config.ts',
    enableFindRelatedTests: false,
  },
  coverageAnalysis: 'perTest',
  // Tests compare examples and sources with the docs verbatim: no '// @ts-nocheck' added to them.
  disableTypeChecks: false,
  mutate: group.mutate,
  ignorePatterns: ['dist', '.tsbuild', 'coverage', 'docs/api', 'tmp', 'demo-output', '.snippets', 'reports'],
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: `reports/mutation/${group.report}.json` },
  htmlReporter: { fileName: `reports/mutation/${group.report}.html` },
  concurrency: 2,
  // A mutant that makes a loop endless is a timeout (detected): no need to wait long for it.
  timeoutMS: 3000,
  // Mutants in module-level code (tables built at load) would need every test per mutant; left out.
  ignoreStatic: true,
  dryRunTimeoutMinutes: 30,
  tempDirName: '.stryker-tmp',
};
export default config;
