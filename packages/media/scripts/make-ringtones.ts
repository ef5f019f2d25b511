// Synthesizes the sample media files the package ships (see src/ringing/sample-ringtones.ts):
// run by `npm run build` of @sip-endpoint/media, and by the tests' global set-up.
import { fileURLToPath } from 'node:url';
import { writeSampleMedia } from '../src/ringing/sample-ringtones';

writeSampleMedia(fileURLToPath(new URL('../media', import.meta.url)));
