import { defineConfig } from 'tsup';

/** The build every package shares: ESM + CJS + .d.ts from src/index.ts into dist/. */
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  // Packages are composite projects for `tsc -b`; the declaration bundler wants a plain one.
  dts: { compilerOptions: { composite: false, incremental: false } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
});
