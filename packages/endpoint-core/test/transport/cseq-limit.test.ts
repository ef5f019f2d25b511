import { screenIncoming } from '../../src/transport/bad-request';

// RFC 3261 8.1.1.5: the CSeq number is a 32-bit unsigned integer. sip.js reads any run of digits
// (a float past 2**53), and once answered an OPTIONS with CSeq 2**65 with 200.

function message(start: string, cseq: string): string {
  return [start, 'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKcseq1', 'From: <sip:a@127.0.0.1>;tag=a', 'To: <sip:b@127.0.0.1>', 'Call-ID: cseq@127.0.0.1', `CSeq: ${cseq}`, 'Max-Forwards: 70', 'Content-Length: 0', '', ''].join('\r\n');
}

describe('CSeq numbers beyond 32 bits', () => {
  it.each(['36893488147419103232', '4294967296', '99999999999999999999999999999999999999999999999999'])('a request with CSeq %s gets 400 naming it', (number) => {
    const screening = screenIncoming(message('OPTIONS sip:b@127.0.0.1 SIP/2.0', `${number} OPTIONS`), '127.0.0.1');
    expect(screening).toMatchObject({ action: 'reply', status: 400 });
    expect((screening as { reason: string }).reason).toMatch(/^the CSeq number \d+(\.\.\.)? is larger than 2\*\*32 - 1/);
  });

  it('a request with CSeq 2**32 - 1 is delivered', () => {
    expect(screenIncoming(message('OPTIONS sip:b@127.0.0.1 SIP/2.0', '4294967295 OPTIONS'), '127.0.0.1')).toMatchObject({ action: 'deliver' });
  });

  it('a response with CSeq beyond 32 bits is dropped; 2**32 - 1 is delivered', () => {
    expect(screenIncoming(message('SIP/2.0 200 OK', '9999999999 OPTIONS'), '127.0.0.1')).toMatchObject({ action: 'drop', reason: expect.stringMatching(/CSeq number is larger than 2\*\*32 - 1/) });
    expect(screenIncoming(message('SIP/2.0 200 OK', '4294967295 OPTIONS'), '127.0.0.1')).toMatchObject({ action: 'deliver' });
  });
});
