// Writes docs/configuration.md from the settings table. Run with `npm run docs:config`.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderSettingsReference } from '../src/index';

const target = fileURLToPath(new URL('../../../docs/configuration.md', import.meta.url));
writeFileSync(target, renderSettingsReference());
process.stdout.write(`wrote ${target}\n`);
