import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Core } from 'sip.js';
import { dialogBusy, whenDialogIdle } from '../../src/sip/dialog-activity';
import { installSipExtensions } from '../../src/sip/extensions';

/**
 * The contract between src/sip/ and the sip.js it extends: the version it was written for, and
 * the internals each wrap relies on, read from sip.js's own files. A sip.js upgrade that moves any
 * of them fails here, by name, rather than in a call that silently loses its session refresh.
 */
const sipJsRoot = join(dirname(require.resolve('sip.js/package.json')));
const lib = (path: string): string => readFileSync(join(sipJsRoot, 'lib', path), 'utf8');
const root = join(__dirname, '..', '..', '..', '..');

describe('the sip.js that src/sip/ extends', () => {
  it('is exactly the version the patch and the wraps target, pinned in package.json', () => {
    const installed = JSON.parse(readFileSync(join(sipJsRoot, 'package.json'), 'utf8')).version as string;
    const pinned = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).dependencies['sip.js'] as string;
    expect(pinned).toBe('0.21.2');
    expect(installed).toBe(pinned);
    expect(readFileSync(join(root, 'patches', `sip.js+${pinned}.patch`), 'utf8')).toContain('peg$bytecodeOnce');
  });

  it('has the patched parser (its grammar table decoded once per process)', () => {
    expect(lib('grammar/pegjs/dist/grammar.js')).toContain('peg$bytecodeOnce');
  });

  it('has the internals the response-matching wrap reads (userAgentClients by branch + method, transaction ids)', () => {
    const core = lib('core/user-agent-core/user-agent-core.js');
    expect(core).toMatch(/receiveResponseFromTransport\(message\)/);
    expect(core).toMatch(/this\.userAgentClients\.get\(/);
    expect(typeof (Core.UserAgentCore.prototype as unknown as Record<string, unknown>).receiveResponseFromTransport).toBe('function');
  });

  it('has the internals the UPDATE wrap reads (the core answers UPDATE itself; dialogs keyed by Call-ID + tags; sequenceGuard)', () => {
    const core = lib('core/user-agent-core/user-agent-core.js');
    expect(core).toMatch(/this\.dialogs\.get\(/);
    expect(core).toMatch(/replyStateless\(/);
    const dialog = lib('core/dialogs/session-dialog.js');
    expect(dialog).toMatch(/sequenceGuard\(message\)/);
    expect(typeof (Core.SessionDialog.prototype as unknown as Record<string, unknown>).receiveRequest).toBe('function');
  });

  it('has the re-INVITE server whose accept() the session-timer wrap extends, with its dialog and message', () => {
    const server = lib('core/user-agents/re-invite-user-agent-server.js');
    expect(server).toMatch(/accept\(options = \{ statusCode: 200 \}\)/);
    expect(server).toMatch(/dialog\.reinviteUserAgentServer = this/);
  });

  it('assigns the three fields dialog-activity watches, and never defines them on the prototype', () => {
    expect(lib('core/dialogs/session-dialog.js')).toMatch(/this\.ackWait = (true|false)/);
    expect(lib('core/user-agents/re-invite-user-agent-server.js')).toMatch(/this\.dialog\.reinviteUserAgentServer = undefined/);
    expect(lib('core/user-agents/re-invite-user-agent-client.js')).toMatch(/dialog\.reinviteUserAgentClient = this/);
    expect(lib('core/user-agents/re-invite-user-agent-client.js')).toMatch(/this\.dialog\.reinviteUserAgentClient = undefined/);
  });

  it('installs the wraps once, and dialog activity is seen on assignment, without polling', async () => {
    installSipExtensions();
    installSipExtensions();
    const dialog = Object.create(Core.SessionDialog.prototype) as { ackWait: boolean; reinviteUserAgentServer: unknown };
    expect(dialogBusy(dialog)).toBe(false);
    dialog.ackWait = true;
    dialog.reinviteUserAgentServer = {};
    expect(dialogBusy(dialog)).toBe(true);
    let idle = false;
    const waiting = whenDialogIdle(dialog, 10000).then(() => (idle = true));
    dialog.ackWait = false;
    await Promise.resolve();
    expect(idle).toBe(false);
    dialog.reinviteUserAgentServer = undefined;
    await waiting;
    expect(idle).toBe(true);
    expect(dialog.ackWait).toBe(false);
  });
});
