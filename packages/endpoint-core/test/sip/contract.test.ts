import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { Core } from 'sip.js';
import { headerize, utf8Length } from 'sip.js/lib/core/messages/utils.js';
import { assertPatchedSipJs, extendDialog, whenDialogIdle } from '../../src/sip/dialog-extensions';

/**
 * The contract between src/sip/ and sip.js: the version the patch was made for, pinned, and every
 * change the patch makes, found in the installed sip.js. A sip.js upgrade or an install that skipped
 * patch-package fails here, by name, rather than in a call that silently loses its session refresh.
 */
const sipJsRoot = dirname(require.resolve('sip.js/package.json'));
const lib = (path: string): string => readFileSync(join(sipJsRoot, 'lib', path), 'utf8');
const root = join(__dirname, '..', '..', '..', '..');

describe('the sip.js that endpoint-core runs', () => {
  it('is exactly the version the patch targets, pinned in package.json', () => {
    const installed = JSON.parse(readFileSync(join(sipJsRoot, 'package.json'), 'utf8')).version as string;
    const pinned = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).dependencies['sip.js'] as string;
    expect(pinned).toBe('0.21.2');
    expect(installed).toBe(pinned);
    expect(readFileSync(join(root, 'patches', `sip.js+${pinned}.patch`), 'utf8')).toContain('sip-endpoint patch');
  });

  it('has the patched parser (its grammar table decoded once per process)', () => {
    expect(lib('grammar/pegjs/dist/grammar.js')).toContain('peg$bytecodeOnce');
  });

  it('takes a message the transport already parsed', () => {
    expect(lib('api/user-agent.js')).toMatch(/typeof messageString === "string" \? Parser\.parseMessage/);
  });

  it('routes an in-dialog UPDATE to its dialog, and drops a late response of a transaction replaced after a challenge', () => {
    const core = lib('core/user-agent-core/user-agent-core.js');
    expect(core).toMatch(/message\.method === C\.UPDATE && message\.toTag/);
    expect(core).toMatch(/userAgentClient\.transaction\.id !== message\.viaBranch/);
  });

  it('lets a dialog extension answer UPDATE, add 2xx headers to a re-INVITE, and hear of INVITE exchanges', () => {
    expect(lib('core/dialogs/session-dialog.js')).toMatch(/this\.extensions && this\.extensions\.onUpdate/);
    expect(lib('core/user-agents/re-invite-user-agent-server.js')).toMatch(/extensions\.reinviteResponseHeaders\(this\.message\)/);
    expect(() => assertPatchedSipJs()).not.toThrow();
  });

  it("stops a re-INVITE's 2xx retransmissions once that re-INVITE is over (test/sip/timers.test.ts shows why)", () => {
    expect(lib('core/dialogs/session-dialog.js')).toMatch(/this\.reinviteUserAgentServer !== server \|\| this\._signalingState === SignalingState\.Closed/);
  });

  it('leaves a session that ended before its ACK alone when the ACK timer fires (test/webrtc/webrtc-failures.test.ts shows why)', () => {
    expect(lib('api/invitation.js')).toMatch(/onAckTimeout\(\) \{[^}]*if \(this\.state === SessionState\.Terminated\) \{\s*return;/);
  });

  it("caps an INVITE's Expires timer and ignores an Expires that is not a number (test/peers/sipp-scenarios.test.ts shows why)", () => {
    expect(lib('api/invitation.js')).toMatch(/if \(Number\.isFinite\(expiresSeconds\) && expiresSeconds >= 0\) \{\s*const expires = Math\.min\(expiresSeconds \* 1000, 2147483647\);/);
  });

  it('takes the application\'s digest credentials, answers the strongest challenge with the body, and never resends a REGISTER\'s credentials (test/sip/digest.test.ts shows why)', () => {
    expect(lib('api/user-agent.js')).toMatch(/if \(this\.options\.digestAuthenticationFactory\) \{\s*return this\.options\.digestAuthenticationFactory\(request\);/);
    expect(lib('core/user-agents/user-agent-client.js')).toMatch(/rank\(candidate\) > rank\(challenge\)/);
    expect(lib('core/user-agents/user-agent-client.js')).toMatch(/this\.credentials\.authenticate\(this\.message, challenge, this\.message\.body \? this\.message\.body\.body : undefined\)/);
    expect(lib('api/registerer.js').match(/delete this\.request\.headers\["Authorization"\];/g)).toHaveLength(2);
  });

  it('sends 100 Trying to an INVITE only when nothing else went before its handling yielded (test/sip/trying.test.ts shows when)', () => {
    expect(lib('api/user-agent.js')).toMatch(/\(typeof setImmediate === "function" \? setImmediate : \(run\) => setTimeout\(run, 0\)\)\(\(\) => \{\s*if \(!incomingInviteRequest\.tryingable \|\| incomingInviteRequest\.transaction\.lastProvisionalResponse !== undefined\) return;/);
  });

  it('finds a merged request (RFC 3261 8.2.2.2) by an index of its From tag, Call-ID and CSeq, not by scanning every server transaction (test/sip/merged-request.test.ts shows the rule)', () => {
    const core = lib('core/user-agent-core/user-agent-core.js');
    expect(core).toMatch(/this\.userAgentServers = new UserAgentServers\(\);/);
    expect(core).toMatch(/const mergedRequest = this\.userAgentServers\.hasMerged\(message\);/);
  });

  it('counts a body\'s UTF-8 bytes as Buffer.byteLength does (Content-Length of what we send, the length check of what we get) and normalises header names as before, from a bounded cache', () => {
    expect(lib('core/messages/utils.js')).toMatch(/const headerizeCache = new Map\(\);/);
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (text) => utf8Length(text) === Buffer.byteLength(text)), { numRuns: 2000 });
    // Lone surrogates (sent as U+FFFD) and the four-byte forms.
    for (const text of ['\ud800', 'a\udc00b', '\ud83d\ude00', 'é€😀', '']) expect(utf8Length(text)).toBe(Buffer.byteLength(text));
    expect(['call-id', 'CSEQ', 'www-authenticate', 'min-se', 'rack', 'rseq', 'content_type', 'x-genesys-calluuid', 'Via'].map((name) => headerize(name))).toEqual(['Call-ID', 'CSeq', 'WWW-Authenticate', 'Min-SE', 'RAck', 'RSeq', 'Content-Type', 'X-Genesys-Calluuid', 'Via']);
    // Many made-up names: the same answers, the cache stops growing (its bound is not observable
    // from here; the names must still come out right after it is full).
    for (let i = 0; i < 2000; i++) expect(headerize(`x-made-up-${i}`)).toBe(`X-Made-Up-${i}`);
    expect(headerize('call-id')).toBe('Call-ID');
  });

  it('sends a reliable provisional response without an answer when asked, checks the RAck of a PRACK, refuses a PRACK nothing awaits, and lets early media depend on the response (test/peers/sipp-session.test.ts shows why)', () => {
    expect(lib('api/invitation.js')).toContain('const withoutAnswer = options.withoutAnswer && !!this.incomingInviteRequest.message.body;');
    expect(lib('api/invitation.js')).toContain('Number(rack[1]) !== sentRseq');
    expect(lib('core/dialogs/session-dialog.js')).toContain('this.delegate.onPrack(uas) : uas.reject({ statusCode: 481 });');
    expect(lib('api/inviter.js')).toContain('(typeof this.earlyMedia === "function" ? this.earlyMedia(response) : this.earlyMedia)');
  });

  it('hands the challenged request to the authentication factory (test/line/mailbox.test.ts shows why)', () => {
    expect(lib('core/user-agents/user-agent-client.js')).toContain('this.credentials = this.core.configuration.authenticationFactory(this.message);');
    expect(lib('api/user-agent.js')).toContain('return this.options.digestAuthenticationFactory(request);');
  });

  it("takes a session's Contact from its `_contact` for re-INVITEs, their 2xx and REFER, which a line whose connection moved rewrites (test/line/flow-recovery.test.ts shows why)", () => {
    const session = lib('api/session.js');
    expect(session.match(/"Contact: " \+ this\._contact/g)).toHaveLength(3);
    expect(lib('api/invitation.js')).toContain('this._contact = this.userAgent.contact.toString();');
    expect(lib('api/inviter.js')).toContain('this._contact = contact;');
  });

  it('hands the early dialog of a provisional response to the Inviter\'s request delegate, where its offer/answer state can be read (test/peers/sipp-session.test.ts: an UPDATE in the early dialog)', () => {
    // Not a patch: sip.js's own code, which earlyDialogOf and offerState read beyond its public types.
    expect(lib('core/user-agents/invite-user-agent-client.js')).toMatch(/const session = earlyDialog;\s+if \(this\.delegate && this\.delegate\.onProgress\) \{\s+this\.delegate\.onProgress\(\{\s+message,\s+session,/);
    expect(lib('api/inviter.js')).toContain('options.requestDelegate.onProgress(inviteResponse);');
    expect(Object.getOwnPropertyDescriptor(Core.SessionDialog.prototype, 'signalingState')?.get).toBeInstanceOf(Function);
    expect([Core.SignalingState.Stable, Core.SignalingState.HaveLocalOffer]).toEqual(['Stable', 'HaveLocalOffer']);
  });

  it('answers a Bearer challenge with the application\'s access token, once per request (test/webrtc/webrtc-token.test.ts shows why)', () => {
    expect(lib('api/user-agent.js')).toMatch(/bearerToken: this\.options\.authorizationBearerToken/);
    expect(lib('core/user-agents/user-agent-client.js')).toMatch(/if \(bearerToken && !this\.bearerAnswered && this\.message\.getHeader\(bearerHeader\) !== "Bearer " \+ bearerToken &&/);
  });

  it('tells the extension when an INVITE exchange opens and closes, so that a call waits without polling', async () => {
    // A dialog as sip.js's own code changes it: the same assignments, on the patched accessors.
    const dialog = Object.create(Core.SessionDialog.prototype) as Core.SessionDialog;
    const setAckWait = (value: boolean): void => {
      (dialog as unknown as { ackWait: boolean }).ackWait = value;
    };
    let notices = 0;
    extendDialog(dialog, {});
    const onActivity = dialog.extensions!.onActivity!;
    dialog.extensions!.onActivity = () => {
      notices++;
      onActivity();
    };
    expect(dialog.inviteExchangeOpen).toBe(false);
    setAckWait(true);
    dialog.reinviteUserAgentServer = {} as Core.ReInviteUserAgentServer;
    expect(dialog.inviteExchangeOpen).toBe(true);
    let idle = false;
    const waiting = whenDialogIdle(dialog, 10000).then(() => (idle = true));
    setAckWait(false);
    await Promise.resolve();
    expect(idle).toBe(false);
    dialog.reinviteUserAgentServer = undefined;
    await waiting;
    expect(idle).toBe(true);
    expect(notices).toBe(4);
  });
});
