import { peekSip } from '../../src/transport/sip-peek';

const invite = [
  'INVITE sip:bob@127.0.0.1:5070 SIP/2.0',
  'v: SIP/2.0/UDP [2001:db8::5]:5062;branch=z9hG4bK776;rport=5999;received=2001:db8::9',
  'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKother',
  'From: <sip:alice@example.com>;tag=1',
  'To: <sip:bob@example.com>',
  'i: abc@host',
  'CSeq: 314159',
  ' INVITE',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

describe('peekSip', () => {
  it('reads the start line, the top Via (compact form, IPv6, rport, received), a folded CSeq and the compact Call-ID', () => {
    expect(peekSip(invite)).toMatchObject({
      kind: 'request',
      method: 'INVITE',
      status: 0,
      via: { transport: 'UDP', host: '[2001:db8::5]', port: 5062, branch: 'z9hG4bK776', received: '2001:db8::9', rport: 5999 },
      cseq: 314159,
      callId: 'abc@host',
    });
  });

  it('reads a response and takes its method from CSeq', () => {
    const response = 'SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx;rport\r\nCSeq: 2 INVITE\r\nCall-ID: c\r\n\r\n';
    expect(peekSip(response)).toMatchObject({ kind: 'response', method: 'INVITE', status: 180, via: { host: '127.0.0.1', port: 5060, rport: undefined } });
  });

  it.each(['', 'hello\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'SIP/2.0 OK\r\n\r\n', '\u0000\u0001'])('returns undefined for %j', (text) => {
    expect(peekSip(text)).toBeUndefined();
  });
});
