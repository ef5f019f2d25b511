import { defineConfig, type Options } from 'tsup';
import base from '../../tsup.config.base';

// Two entry points: the media engine, and `@sip-endpoint/media/testing` (the measurements that
// tests of a call's audio use), which package.json exports as its own subpath.
export default defineConfig({ ...(base as Options), entry: ['src/index.ts', 'src/testing.ts'] });
