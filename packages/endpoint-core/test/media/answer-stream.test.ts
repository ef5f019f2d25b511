import { EndpointConfig } from '@sip-endpoint/config';
import { PortAllocator, type AudioStream } from '@sip-endpoint/media';
import type { Call } from '@sip-endpoint/endpoint-core';
import { testPorts } from '@sip-endpoint/test-support';
import { MediaSessionDescriptionHandler } from '../../src/media/media-session-description-handler';
import { standaloneEndpoint, waitFor } from '../support/endpoints';

// The stream of an answer we give in our 200 is made once that 200 has gone, not while it is
// built (the stream's construction was a third of an INVITE's handling): the handler keeps the
// negotiated media until startMedia(), and the call starts it when its session is established,
// before it is CONNECTED.

const rtp = testPorts(20);
const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

function handler(ports: PortAllocator, streams: AudioStream[], deferAnswerStream: boolean): MediaSessionDescriptionHandler {
  const config = EndpointConfig.defaults();
  return new MediaSessionDescriptionHandler({
    address: '127.0.0.1',
    bindAddress: '127.0.0.1',
    ports,
    codecs: () => config.codecs,
    answerPriority: 'local',
    onStream: (stream) => streams.push(stream as AudioStream),
    deferAnswerStream,
  });
}

describe("the stream of an answer we give", () => {
  it('with deferAnswerStream: the answer is written with no stream; startMedia() makes and starts it, once', async () => {
    const ports = new PortAllocator(rtp, rtp + 9);
    const streams: AudioStream[] = [];
    const media = handler(ports, streams, true);
    await media.setDescription(OFFER);
    const answer = await media.getDescription();
    expect(answer.body).toMatch(/^m=audio \d+ RTP\/AVP 0/m);
    expect(media.negotiated?.codec.name).toMatch(/^PCMU/);
    expect(streams).toEqual([]);
    expect(media.stream).toBeUndefined();
    media.startMedia();
    expect(streams).toHaveLength(1);
    expect(media.stream).toBe(streams[0]);
    expect(streams[0]!.state).toBe('RUNNING');
    expect(streams[0]!.localPort).toBe(Number(/^m=audio (\d+)/m.exec(answer.body)![1]));
    media.startMedia();
    expect(streams).toHaveLength(1);
    media.close();
    expect(streams[0]!.state).toBe('CLOSED');
    expect(ports.used).toBe(0);
  });

  it('closed before startMedia(): no stream is ever made, and its ports are free', async () => {
    const ports = new PortAllocator(rtp + 10, rtp + 19);
    const streams: AudioStream[] = [];
    const media = handler(ports, streams, true);
    await media.setDescription(OFFER);
    await media.getDescription();
    expect(ports.used).toBe(1);
    media.close();
    media.startMedia();
    expect(streams).toEqual([]);
    expect(ports.used).toBe(0);
  });

  it('without it (sip.js alone drives the handler): the stream is made with the answer, as before', async () => {
    const ports = new PortAllocator(rtp, rtp + 9);
    const streams: AudioStream[] = [];
    const media = handler(ports, streams, false);
    await media.setDescription(OFFER);
    await media.getDescription();
    expect(streams).toHaveLength(1);
    media.close();
  });

  it('an auto-answered call is CONNECTED with its stream running, and carries audio', async () => {
    const alice = standaloneEndpoint('5101', testPorts(7), testPorts(50), 1000);
    const bob = standaloneEndpoint('5102', testPorts(7), testPorts(50), 600, { 'policy.session.auto_answer': '1' });
    await alice.endpoint.start();
    await bob.endpoint.start();
    try {
      const seen: string[] = [];
      bob.endpoint.on('callStateChanged', (call: Call, state) => {
        if (state === 'CONNECTED') seen.push(`${state} ${call.media.stream?.state ?? 'no stream'}`);
      });
      const call = await alice.endpoint.makeCall(`sip:5102@127.0.0.1:${bob.endpoint.lines[0]!.port}`);
      await waitFor(() => call.state === 'CONNECTED' && seen.length === 1, 5000, 'connected');
      expect(seen).toEqual(['CONNECTED RUNNING']);
      await waitFor(() => (bob.endpoint.calls[0]?.media.stats()?.received.packets ?? 0) > 10, 5000, 'RTP at Bob');
      await call.hangup();
    } finally {
      await alice.endpoint.stop();
      await bob.endpoint.stop();
    }
  });
});
