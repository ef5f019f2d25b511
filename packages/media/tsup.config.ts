import { defineConfig, type Options } from 'tsup';
import base from '../../tsup.config.base';

// Three entry points: the media engine; `@sip-endpoint/media/testing` (the measurements that
// tests of a call's audio use), which package.json exports as its own subpath; and the script a
// media worker thread runs (MediaWorkerPool finds it beside the built index).
export default defineConfig({ ...(base as Options), entry: { index: 'src/index.ts', testing: 'src/testing.ts', 'media-worker': 'src/worker/media-worker.ts' } });
