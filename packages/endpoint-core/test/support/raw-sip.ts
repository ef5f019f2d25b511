import { createSocket, type Socket } from 'node:dgram';

/** A SIP response a raw socket received. */
export interface RawResponse {
  /** `performance.now()` when it arrived. */
  at: number;
  status: number;
  callId: string;
  /** The top Via's branch, without the `z9hG4bK` cookie. */
  branch: string;
}

/** A UDP socket bound on 127.0.0.1:`port` that keeps every SIP response it receives, for tests that write requests by hand. */
export async function rawSipSocket(port: number): Promise<{ socket: Socket; responses: RawResponse[] }> {
  const socket = createSocket('udp4');
  const responses: RawResponse[] = [];
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
  socket.on('message', (data) => {
    const text = data.toString();
    const status = /^SIP\/2\.0 (\d{3})/.exec(text);
    if (!status) return;
    responses.push({ at: performance.now(), status: Number(status[1]), callId: /^Call-ID: (\S+)/m.exec(text)?.[1] ?? '', branch: /;branch=z9hG4bK([^;\s]+)/.exec(text)?.[1] ?? '' });
  });
  return { socket, responses };
}

/** An INVITE with an SDP offer of PCMU on `mediaPort`, from a raw socket on `rawPort` to the line on `port`. */
export function rawInvite(options: { port: number; rawPort: number; mediaPort: number; callId: string; fromTag: string; branch: string; cseq?: number }): string {
  const sdp = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${options.mediaPort} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
  const lines = [
    `INVITE sip:agent@127.0.0.1:${options.port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${options.rawPort};branch=z9hG4bK${options.branch};rport`,
    `From: <sip:tester@127.0.0.1>;tag=${options.fromTag}`,
    'To: <sip:agent@127.0.0.1>',
    `Call-ID: ${options.callId}`,
    `CSeq: ${options.cseq ?? 1} INVITE`,
    `Contact: <sip:tester@127.0.0.1:${options.rawPort}>`,
    'Max-Forwards: 70',
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(sdp)}`,
  ];
  return [...lines, '', sdp].join('\r\n');
}
