import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

describe('the repository', () => {
  it('.ci/run runs exactly the README\'s test command', () => {
    const readme = read('README.md');
    const testLine = readme.split('\n').slice(0, 6).find((line) => line.startsWith('- All tests'));
    const command = /`([^`]+)`/.exec(testLine ?? '')?.[1];
    expect(command).toBeDefined();
    const script = read('.ci/run').split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
    expect(script).toContain(command);
    expect(script).toContain('set -euo pipefail');
  });

  it('the README\'s main job command is the demo script', () => {
    const firstLines = read('README.md').split('\n').slice(0, 6).join('\n');
    expect(firstLines).toContain('`npm ci && npm run demo`');
    expect(JSON.parse(read('package.json')).scripts.demo).toBeDefined();
  });

  it('the lock file is complete: it lists other platforms\' optional binaries, so npm ci accepts it anywhere', () => {
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, unknown> };
    for (const name of ['@rollup/rollup-linux-x64-gnu', '@rollup/rollup-darwin-arm64', '@rollup/rollup-win32-x64-msvc', '@esbuild/darwin-arm64', '@swc/core-win32-x64-msvc']) {
      expect(Object.keys(lock.packages)).toContain(`node_modules/${name}`);
    }
  });

  it('no file of the project names a path outside the repository', () => {
    const tracked = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).split('\n').filter((path) => /\.(ts|cjs|mjs|js|json|sh)$/.test(path) || path === '.ci/run');
    const outside = tracked.filter((path) => /\.\.\/\.\.\/\.\.\/\.\.\/shared|\/work\/shared|\.\.\/shared\//.test(read(path)));
    expect(outside).toEqual([]);
  });

  const packages = readdirSync(join(root, 'packages')).filter((name) => JSON.parse(read(join('packages', name, 'package.json'))).private !== true);

  it.each(packages)('package %s has a README, a src/index.ts with named exports only, and an exports map', (name) => {
    const dir = join('packages', name);
    expect(existsSync(join(root, dir, 'README.md'))).toBe(true);
    const index = read(join(dir, 'src', 'index.ts'));
    expect(index).not.toMatch(/export \*/);
    const manifest = JSON.parse(read(join(dir, 'package.json')));
    expect(manifest.name).toBe(`@sip-endpoint/${name}`);
    expect(manifest.exports['.']).toMatchObject({ import: { types: './dist/index.d.ts' }, require: { types: './dist/index.d.cts' } });
    expect(JSON.parse(read('package.json')).workspaces).toContain(`packages/${name}`);
    // typedoc reads each package's own options: internals (an @internal constructor) stay out of the API docs.
    expect(JSON.parse(read(join(dir, 'typedoc.json')))).toMatchObject({ excludeInternal: true, excludePrivate: true });
  });

  it.each(packages)('package %s has what publishing needs (docs/publishing.md), and its README says how to install it before then', (name) => {
    const dir = join('packages', name);
    const manifest = JSON.parse(read(join(dir, 'package.json')));
    expect(manifest).toMatchObject({ version: JSON.parse(read('package.json')).version, license: 'MIT', types: './dist/index.d.ts', engines: JSON.parse(read('package.json')).engines, publishConfig: { access: 'public' } });
    expect(manifest.files).toEqual(expect.arrayContaining(['dist', 'README.md']));
    // npm publish rewrites (and warns about) a bin path that is not already in its normal form.
    for (const target of Object.values<string>(manifest.bin ?? {})) expect(target).toMatch(/^(?!\.\/)[\w./-]+$/);
    // The @sip-endpoint packages depend on each other at exactly the version they all share.
    for (const [dependency, range] of Object.entries<string>(manifest.dependencies ?? {})) {
      if (dependency.startsWith('@sip-endpoint/')) expect(`${dependency}@${range}`).toBe(`${dependency}@${manifest.version}`);
    }
    const install = /^## Install\n([\s\S]*?)^## /m.exec(read(join(dir, 'README.md')))?.[1] ?? '';
    expect(install).toContain('not on the npm registry yet');
    expect(install).toContain('npm ci && npm run build');
    // The commands pack and install the package with the @sip-endpoint packages it depends on.
    const lines = install.split('\n');
    const pack = lines.find((line) => line.startsWith('npm pack ')) ?? '';
    const command = lines.find((line) => line.startsWith('npm install ./vendor/')) ?? '';
    const needed = [name, ...Object.keys(manifest.dependencies ?? {}).filter((dependency) => dependency.startsWith('@sip-endpoint/')).map((dependency) => dependency.slice('@sip-endpoint/'.length))];
    for (const each of needed) {
      expect(pack).toContain(`-w @sip-endpoint/${each} `);
      expect(command).toContain(`./vendor/sip-endpoint-${each}-${manifest.version}.tgz`);
    }
  });
});
