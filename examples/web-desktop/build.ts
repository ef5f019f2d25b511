// Bundles desktop.ts, with @sip-endpoint/connector-client and what it uses, into dist/desktop.js
// for the browser: the project's own tooling (tsup, on esbuild), one IIFE script, no framework.
// The packages are taken built (`npm run build` first): their ES modules, tree-shaken, so that
// nothing of Node's (config's address and file helpers) reaches the page.
import { join } from 'node:path';
import { build } from 'tsup';

// Run by tsx (or jest) as CommonJS, like the other examples.
const here = __dirname;

/** Writes dist/desktop.js (and its source map) beside this file; returns the script's path. */
export async function buildWebDesktop(): Promise<string> {
  await build({
    entry: { desktop: join(here, 'desktop.ts') },
    outDir: join(here, 'dist'),
    format: ['iife'],
    platform: 'browser',
    target: 'es2022',
    noExternal: [/.*/],
    // Node's modules, named by parts of the packages the page never calls: refused if they stay.
    external: [/^node:/],
    minify: false,
    sourcemap: true,
    dts: false,
    clean: true,
    silent: true,
    config: false,
    tsconfig: join(here, 'tsconfig.json'),
    outExtension: () => ({ js: '.js' }),
  });
  return join(here, 'dist', 'desktop.js');
}

if (require.main === module) {
  buildWebDesktop().then(
    (file) => process.stdout.write(`wrote ${file}\n`),
    (error: Error) => {
      process.stderr.write(`web-desktop build failed: ${error.message}\n`);
      process.exitCode = 1;
    },
  );
}
