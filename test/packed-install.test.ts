import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testPorts } from '@sip-endpoint/test-support';

// The packages as a user gets them: each public package packed with `npm pack`, the six tarballs
// installed into an empty project (the registry provides their other dependencies), a strict
// TypeScript consumer compiled against their declarations (`skipLibCheck: false`, so every
// declaration file of the tree is checked, with only what the packages depend on), then run from
// ESM and from CommonJS. It packs `dist/` as `npm run build` left it.

const root = join(__dirname, '..');
const readJson = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

/** semver as installed for the tooling (it has no types here): only what the engines check uses. */
const semver = createRequire(__filename)('semver') as { satisfies(version: string, range: string): boolean; minVersion(range: string): { version: string } | null };

/** The published packages: the workspaces that are not private. */
const packages = readdirSync(join(root, 'packages')).filter((name) => readJson(join(root, 'packages', name, 'package.json')).private !== true);

/** What a process printed, and how it ended (`code` null: killed at the time limit). */
interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** npm's settings of the run that started jest which must not reach the npm we start (it would act on the repository's workspaces). */
const NPM_WORKSPACE_SETTINGS = /^npm_config_(workspace|workspaces|include_workspace_root)$/i;
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !NPM_WORKSPACE_SETTINGS.test(name)));

function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

/** Fails with the command's output unless it exited with 0. */
function succeeded(what: string, result: Run): Run {
  if (result.code !== 0) throw new Error(`${what} failed (exit ${String(result.code)}):\n${result.stdout}\n${result.stderr}`);
  return result;
}

/**
 * The consumer, compiled once as ESM (`consumer.mts`) and once as CommonJS (`consumer.cts`): it
 * imports every package's main names, reads a Softphone.config from XML text, starts a stand-alone
 * `Endpoint` on 127.0.0.1 (SIP and RTP ports from the port given as its argument), reads its
 * `session()`, opens and closes a Connector API session of a `Softphone` with the
 * `ConnectorClient`, and prints what it saw as one JSON line.
 */
const CONSUMER = `import { EndpointConfig, parseConfig } from '@sip-endpoint/config';
import { ConnectorClient, type Session } from '@sip-endpoint/connector-client';
import { Endpoint, type EndpointWarning, type SessionModel } from '@sip-endpoint/endpoint-core';
import { VirtualAudioProvider } from '@sip-endpoint/media';
import { rms } from '@sip-endpoint/media/testing';
import { DefaultPolicy } from '@sip-endpoint/policy';
import { Softphone } from '@sip-endpoint/softphone';

async function main(): Promise<void> {
  const port = Number(process.argv[2]);
  const setting = (name: string, value: number): string => '<setting name="' + name + '" value="' + String(value) + '"/>';
  const config: EndpointConfig = parseConfig([
    '<?xml version="1.0" encoding="utf-8"?>',
    '<SipEndpoint xmlns="http://schemas.genesyslab.com/2009/sipendpoint">',
    '  <Container name="Basic"><Connectivity user="5001" server="127.0.0.1" protocol="UDP"/></Container>',
    '  <Container name="Genesys"><settings xmlns="http://www.genesyslab.com/sip"><domain name="policy"><section name="endpoint">',
    '    <setting name="public_address" value="127.0.0.1"/>',
    '    ' + setting('sip_port_min', port) + setting('sip_port_max', port + 2) + setting('rtp_port_min', port + 10) + setting('rtp_port_max', port + 19),
    '  </section></domain></settings></Container>',
    '</SipEndpoint>',
  ].join('\\n'));

  // Stand-alone (no reg_timeout: no REGISTER); the default ringtone is the sample the media package ships.
  const warnings: EndpointWarning[] = [];
  const endpoint = new Endpoint({ config, devices: new VirtualAudioProvider(), policy: new DefaultPolicy() });
  endpoint.on('warning', (warning) => warnings.push(warning));
  let session: SessionModel;
  try {
    await endpoint.start();
    session = endpoint.session();
  } finally {
    await endpoint.stop();
  }

  const softphone = new Softphone({
    config: EndpointConfig.defaults().with({
      'policy.connector.port': String(port + 3),
      'policy.endpoint.public_address': '127.0.0.1',
      'policy.endpoint.sip_port_min': String(port + 4),
      'policy.endpoint.sip_port_max': String(port + 6),
      'policy.endpoint.rtp_port_min': String(port + 20),
      'policy.endpoint.rtp_port_max': String(port + 29),
    }),
  });
  let connector: Session;
  try {
    await softphone.start();
    const client = new ConnectorClient({ baseUrl: 'http://127.0.0.1:' + String(port + 3), origin: 'http://127.0.0.1:8080' });
    connector = await client.openSession({ connectivities: { protocol: 'udp', connections: [{ server: '127.0.0.1', user: '6001' }] } });
    await client.closeSession();
  } finally {
    await softphone.stop();
  }

  console.log(JSON.stringify({
    server: config.connectivities[0]?.server,
    endpoint: { status: session.status, line: session.connectivities.connections[0]?.state, warnings: warnings.map((warning) => warning.message) },
    connector: { status: connector.status, user: connector.connectivities?.connections?.[0]?.user },
    rms: rms(new Int16Array([1000, -1000])),
  }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
`;

/** What a consumer's strict project says: module resolution as Node does it; emits consumer.mjs and consumer.cjs. */
const STRICT_NODENEXT = {
  compilerOptions: {
    target: 'ES2022',
    // sip.js's own declarations (the Endpoint exposes sip.js objects) use the DOM's WebRTC types.
    lib: ['ES2023', 'DOM'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    skipLibCheck: false,
  },
  files: ['consumer.mts', 'consumer.cts'],
};

/** The same code as a bundler resolves it (TypeScript's default lib for the target). */
const STRICT_BUNDLER = {
  compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', strict: true, skipLibCheck: false, noEmit: true },
  files: ['consumer.mts'],
};

describe('the packed packages', () => {
  let work = '';
  let app = '';
  const tsc = join(root, 'node_modules', '.bin', 'tsc');

  beforeAll(async () => {
    const unbuilt = packages.filter((name) => !existsSync(join(root, 'packages', name, 'dist', 'index.js')) || !existsSync(join(root, 'packages', name, 'dist', 'index.d.ts')));
    if (unbuilt.length > 0) throw new Error(`${unbuilt.map((name) => `packages/${name}/dist`).join(', ')} missing: run \`npm run build\` first (this test packs the built packages)`);

    work = mkdtempSync(join(tmpdir(), 'sip-endpoint-packed-'));
    const tarballs = join(work, 'tarballs');
    app = join(work, 'app');
    mkdirSync(tarballs);
    mkdirSync(app);

    const workspaces = packages.flatMap((name) => ['-w', `@sip-endpoint/${name}`]);
    const packed = succeeded('npm pack', await run('npm', ['pack', ...workspaces, '--pack-destination', tarballs, '--json'], root, 60000));
    const files = (JSON.parse(packed.stdout) as { filename: string }[]).map((entry) => join(tarballs, entry.filename));
    expect(files).toHaveLength(packages.length);

    writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'packed-consumer', version: '1.0.0', private: true }, null, 2)}\n`);
    succeeded('npm install of the tarballs', await run('npm', ['install', '--no-audit', '--no-fund', ...files], app, 180000));

    writeFileSync(join(app, 'consumer.mts'), CONSUMER);
    writeFileSync(join(app, 'consumer.cts'), CONSUMER);
    writeFileSync(join(app, 'tsconfig.json'), `${JSON.stringify(STRICT_NODENEXT, null, 2)}\n`);
    writeFileSync(join(app, 'tsconfig.bundler.json'), `${JSON.stringify(STRICT_BUNDLER, null, 2)}\n`);
  }, 240000);

  afterAll(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  it('a strict consumer (NodeNext, skipLibCheck false) compiles against the declarations, as ESM and as CommonJS', async () => {
    const result = await run(tsc, ['-p', 'tsconfig.json'], app, 120000);
    expect({ code: result.code, output: result.stdout + result.stderr }).toEqual({ code: 0, output: '' });
  }, 130000);

  it('the same consumer compiles with bundler module resolution', async () => {
    const result = await run(tsc, ['-p', 'tsconfig.bundler.json'], app, 120000);
    expect({ code: result.code, output: result.stdout + result.stderr }).toEqual({ code: 0, output: '' });
  }, 130000);

  it.each(['consumer.mjs', 'consumer.cjs'])('%s parses a config, runs a stand-alone Endpoint and a Softphone with its ConnectorClient', async (script) => {
    expect(existsSync(join(app, script))).toBe(true); // emitted by the NodeNext compile
    const result = await run(process.execPath, [script, String(testPorts(30))], app, 30000);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    const printed = JSON.parse(result.stdout.trim().split('\n').pop() ?? '') as { connector: { status: string } };
    expect(printed).toEqual({
      server: '127.0.0.1',
      endpoint: { status: 'INITIALIZED', line: 'STANDALONE', warnings: [] },
      connector: { status: expect.any(String), user: '6001' },
      rms: 1000,
    });
    expect(['INITIALIZING', 'INITIALIZED']).toContain(printed.connector.status);
  }, 40000);

  it('the softphone command of the packed package runs', async () => {
    const result = await run(join(app, 'node_modules', '.bin', 'softphone'), ['--help'], app, 20000);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: softphone /);
  }, 30000);

  it('no package of the installed tree requires a Node.js our engines (>=20.9) promise and it does not support', () => {
    const ours = readJson(join(root, 'package.json')).engines as { node: string };
    for (const name of packages) expect(readJson(join(root, 'packages', name, 'package.json')).engines).toEqual(ours);
    // Every version the range admits cannot be tried: its lowest, the first of each later major, and this Node.
    const promised = [semver.minVersion(ours.node)?.version ?? '', '21.0.0', '22.0.0', '23.0.0', '24.0.0', process.versions.node].filter((version) => semver.satisfies(version, ours.node));
    expect(promised).toContain('20.9.0');

    const manifests: string[] = [];
    const walk = (dir: string): void => {
      if (!existsSync(dir)) return;
      for (const entry of readdirSync(dir)) {
        if (entry.startsWith('.')) continue;
        if (entry.startsWith('@')) {
          walk(join(dir, entry));
          continue;
        }
        const manifest = join(dir, entry, 'package.json');
        if (!existsSync(manifest)) continue;
        manifests.push(manifest);
        walk(join(dir, entry, 'node_modules'));
      }
    };
    walk(join(app, 'node_modules'));
    expect(manifests.length).toBeGreaterThan(packages.length);

    const unsupported = manifests.flatMap((path) => {
      const manifest = readJson(path) as { name: string; version: string; engines?: { node?: string } };
      const range = manifest.engines?.node;
      const refused = range === undefined ? [] : promised.filter((version) => !semver.satisfies(version, range));
      return refused.length > 0 ? [`${manifest.name}@${manifest.version} wants node ${String(range)}, not ${refused.join(', ')}`] : [];
    });
    expect(unsupported).toEqual([]);
  });
});
