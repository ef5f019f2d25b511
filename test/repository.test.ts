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
    expect(firstLines).toContain('`npm install && npm run demo`');
    expect(JSON.parse(read('package.json')).scripts.demo).toBeDefined();
  });

  const packages = readdirSync(join(root, 'packages'));

  it.each(packages)('package %s has a README, a src/index.ts with named exports only, and an exports map', (name) => {
    const dir = join('packages', name);
    expect(existsSync(join(root, dir, 'README.md'))).toBe(true);
    const index = read(join(dir, 'src', 'index.ts'));
    expect(index).not.toMatch(/export \*/);
    const manifest = JSON.parse(read(join(dir, 'package.json')));
    expect(manifest.name).toBe(`@sip-endpoint/${name}`);
    expect(manifest.exports['.']).toMatchObject({ import: { types: './dist/index.d.ts' }, require: { types: './dist/index.d.cts' } });
    expect(JSON.parse(read('package.json')).workspaces).toContain(`packages/${name}`);
  });
});
