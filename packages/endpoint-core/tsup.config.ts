import { defineConfig, type Options } from 'tsup';
import base from '../../tsup.config.base';

// sip.js goes into the bundle as installed here, with the fixes of /patches applied by
// patch-package at install (its SIP parser decodes its grammar tables once, not at every
// message), so that users of the package run the patched parser too. Its types still come from
// the sip.js dependency.
export default defineConfig({ ...(base as Options), noExternal: ['sip.js'] });
