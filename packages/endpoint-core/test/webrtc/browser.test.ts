import type { AddressResolver } from '@sip-endpoint/config';
import { Endpoint, type Call } from '@sip-endpoint/endpoint-core';
import type { VirtualAudioProvider } from '@sip-endpoint/media';
import { dominantFrequency, rms } from '@sip-endpoint/media/testing';
import { testPorts } from '@sip-endpoint/test-support';
import { type BrowserPhone, Chromium, chromiumAvailable } from '../support/browser';
import { sleep, waitFor } from '../support/endpoints';
import { Kamailio, kamailioAvailable } from '../support/kamailio';
import { makeTestCertificates, type TestCertificates } from '../support/tls-certificates';
import { toneDevices, webRtcLineConfig } from '../support/webrtc-agents';

// Our Endpoint on a WebRTC (HTTPS) line and a real browser: Debian's chromium, headless, with a
// page on sip.js (test/fixtures/browser-phone.html) that registers with the same Kamailio over WSS
// (the gateway's certificate pinned in chromium) or, in the last test, plain WebSocket. Calls both
// ways on the browser's own WebRTC stack and ours (libwebrtc in Node): the
// tones each side plays are measured at the other, holds from each side stop and resume the
// media, DTMF we send as tones is found by the page, the page's DTMF (SIP INFO, and tones in its
// audio) reaches our call's 'dtmf' event, and either side hangs up.

// Both asked (no short cut), so that a run allowed to skip records every missing peer.
const describeIf = [chromiumAvailable(), kamailioAvailable()].every(Boolean) ? describe : describe.skip;

const SIP = testPorts(5);
const TLS = SIP + 1;
const WSS = SIP + 2;
const WS = SIP + 3;
const HTTP = SIP + 4;
const RTP = testPorts(3 * 20);
/** The line's own SIP ports (unused over WebSocket, but taken from this worker's range): 7 per test. */
const SIP_PORTS = testPorts(21);

/** The tone of our virtual microphone, and of the page's OscillatorNode. */
const OUR_TONE = 600;
const PAGE_TONE = 1000;

/** The certificate's name is the loopback address, and nothing else. */
const resolver: AddressResolver = {
  lookup: async (host, family) => (host === 'gateway.example.test' && family === 4 ? ['127.0.0.1'] : []),
  resolveSrv: async () => [],
};

interface Agent {
  endpoint: Endpoint;
  devices: VirtualAudioProvider;
  log: string[];
}

describeIf('our Endpoint and a browser (chromium, sip.js) over WebRTC', () => {
  let kamailio: Kamailio | undefined;
  let chromium: Chromium | undefined;
  let certificates: TestCertificates;
  const agents: Agent[] = [];
  const phones: BrowserPhone[] = [];

  beforeAll(async () => {
    certificates = makeTestCertificates(['gateway.example.test']);
    // Digest ('secret') for both: a browser cannot set a header on its WebSocket upgrade, nor sip.js send a Bearer token.
    [kamailio, chromium] = await Promise.all([
      Kamailio.start(SIP, 'secret', { tls: { port: TLS, certificate: certificates.serverCertificate, key: certificates.serverKey }, wss: { port: WSS }, ws: { port: WS } }),
      // The page reaches the gateway's WSS listener by the certificate's name, the certificate pinned.
      Chromium.start(HTTP, { host: 'gateway.example.test', certificate: certificates.serverCertificate }),
    ]);
  }, 30000);
  afterEach(async () => {
    await Promise.all(phones.splice(0).map((phone) => phone.close()));
    await Promise.all(agents.splice(0).map((agent) => agent.endpoint.stop()));
  });
  afterAll(async () => {
    await chromium?.stop();
    await kamailio?.stop();
  });

  /** Our agent `user` on a WebRTC line through the gateway's WSS listener; its microphone plays {@link OUR_TONE}. */
  async function agent(user: string, index: number): Promise<Agent> {
    const config = webRtcLineConfig(user, `https://gateway.example.test:${WSS}/`, certificates.caCertificate, SIP_PORTS + index * 7, RTP + index * 20, { 'proxies.proxy0.password': 'secret' });
    const devices = toneDevices(OUR_TONE);
    const log: string[] = [];
    const endpoint = new Endpoint({ config, devices, resolver, logger: (level, message) => log.push(`${level} ${message}`) });
    const made = { endpoint, devices, log };
    agents.push(made);
    await endpoint.start();
    await waitFor(() => endpoint.lines[0]!.state === 'READY', 10000, `our line READY (${endpoint.lines[0]!.reason ?? ''})`);
    return made;
  }

  /** The browser's phone `user`, registered over the gateway's WSS listener (or its plain WebSocket one); it plays {@link PAGE_TONE}. */
  async function browserPhone(user: string, over: 'wss' | 'ws' = 'wss'): Promise<BrowserPhone> {
    const phone = await chromium!.newPhone();
    phones.push(phone);
    const server = over === 'wss' ? `wss://gateway.example.test:${WSS}` : `ws://127.0.0.1:${WS}`;
    await phone.register({ server, user, password: 'secret', domain: '127.0.0.1', frequency: PAGE_TONE });
    await phone.until((state) => state.registration === 'Registered', 10000, 'registered');
    return phone;
  }

  /** Samples our speaker recorded so far. */
  const heard = (agent: Agent): number => agent.devices.recording('speaker').samples.length;

  /** What our speaker recorded from sample `from` on. */
  function recordedSince(agent: Agent, from: number): { samples: Int16Array; sampleRate: number } {
    const { samples, sampleRate } = agent.devices.recording('speaker');
    return { samples: samples.subarray(from), sampleRate };
  }

  /** Waits for `seconds` more of our speaker's audio, and gives the frequency of its last `last` seconds. */
  async function nextHeardFrequency(agent: Agent, seconds: number, last = 0.4): Promise<number> {
    const { sampleRate } = agent.devices.recording('speaker');
    const from = heard(agent);
    await waitFor(() => heard(agent) >= from + seconds * sampleRate, 5000 + seconds * 1000, `${seconds} s more of audio on our speaker`);
    const { samples } = recordedSince(agent, heard(agent) - Math.round(last * sampleRate));
    return dominantFrequency(samples, sampleRate);
  }

  /** Nothing went wrong in the page: no error on its console, none its phone kept. */
  async function expectNoPageErrors(phone: BrowserPhone): Promise<void> {
    expect(phone.console.filter((line) => /^(error|pageerror)/.test(line))).toEqual([]);
    expect((await phone.snapshot()).errors).toEqual([]);
  }

  /** The page hears our tone (its analyser's loudest bin, 5.9 Hz wide, and a level well above silence). */
  const hearsOurTone = (state: { frequency: number; levelDb: number }): boolean => Math.abs(state.frequency - OUR_TONE) < 15 && state.levelDb > -30;

  it('the browser calls us: audio both ways, DTMF both ways (ours found by the page, its INFO and tones by us), the browser holds and retrieves, we hang up', async () => {
    const [us, phone] = await Promise.all([agent('7101', 0), browserPhone('8101')]);
    const incoming: Call[] = [];
    us.endpoint.on('incomingCall', (call) => incoming.push(call));
    await phone.call(`sip:7101@127.0.0.1`);
    await waitFor(() => incoming.length === 1, 10000, 'the browser\'s call at our endpoint');
    const call = incoming[0]!;
    expect(call.state).toBe('RINGING');
    await call.answer();
    await waitFor(() => call.state === 'CONNECTED', 10000, 'our call CONNECTED');
    await phone.until((state) => state.session === 'Established', 10000, 'the call established');
    expect(call.media.engine).toBe('webrtc');
    await waitFor(() => call.media.security.kind === 'webrtc' && (call.media.security as { state: string }).state === 'connected', 10000, 'the WebRTC connection up');

    // Audio both ways: the page's oscillator at our speaker, our microphone in the page's analyser.
    expect(await nextHeardFrequency(us, 1)).toBeCloseTo(PAGE_TONE, -1);
    await phone.until(hearsOurTone, 10000, `our ${OUR_TONE} Hz tone`);
    expect(call.media.ice).toMatchObject({ state: 'connected', local: 'host', remote: 'host' });

    // DTMF: our WebRTC engine sends tones in the audio; the page's Goertzel filters find them.
    await call.sendDtmf('123');
    await phone.until((state) => state.digits === '123', 5000, 'the digits 123 in the page');
    // And from the page to us: SIP INFO (our WebRTC answer offers no telephone-event), then tones
    // in its audio, which our engine's detector finds in what libwebrtc decoded.
    const digits: string[] = [];
    call.on('dtmf', (event) => digits.push(`${event.source} ${event.digit}`));
    await phone.dtmfInfo('45');
    await waitFor(() => digits.length === 2, 5000, 'the page\'s two INFO digits');
    await phone.dtmfTones('78#');
    await waitFor(() => digits.length === 5, 5000, `the page's three tones (so far: ${digits.join(', ')})`);
    expect(digits).toEqual(['info 4', 'info 5', 'inband 7', 'inband 8', 'inband #']);

    // The browser holds (sendonly offer): we answer recvonly and stop sending, it still sends.
    // (Our call's state while the far end holds: the test below.)
    await phone.hold(true);
    await phone.until((state) => state.held && state.levelDb < -60, 5000, 'silence from us while the browser holds');
    expect(await nextHeardFrequency(us, 0.5)).toBeCloseTo(PAGE_TONE, -1);
    await phone.hold(false);
    await phone.until((state) => !state.held && hearsOurTone(state), 5000, 'our tone again after the browser retrieved');
    expect(call.state).toBe('CONNECTED');

    await call.hangup();
    expect(call.state).toBe('DISCONNECTED');
    await phone.until((state) => state.session === 'Terminated', 5000, 'the browser\'s call ended by our BYE');
    await expectNoPageErrors(phone);
  }, 60000);

  it('we call the browser: it answers, audio both ways, we hold and retrieve, the browser hangs up', async () => {
    const [us, phone] = await Promise.all([agent('7102', 1), browserPhone('8102')]);
    const call = await us.endpoint.makeCall('8102');
    await phone.until((state) => state.incoming === 1, 10000, 'our call in the browser');
    await phone.answer();
    await waitFor(() => call.state === 'CONNECTED', 10000, 'our call CONNECTED');
    await phone.until((state) => state.session === 'Established', 10000, 'the call established');
    expect(call.media.engine).toBe('webrtc');

    expect(await nextHeardFrequency(us, 1)).toBeCloseTo(PAGE_TONE, -1);
    await phone.until(hearsOurTone, 10000, `our ${OUR_TONE} Hz tone`);

    // We hold (sendonly offer): the browser answers recvonly and stops sending; we still send.
    await call.hold();
    expect(call.state).toBe('HELD');
    const held = heard(us);
    const { sampleRate } = us.devices.recording('speaker');
    await sleep(1000); // the hold itself: a second of it
    const { samples: duringHold } = recordedSince(us, held);
    // libwebrtc plays nothing at all while it receives nothing (no samples for the hold), or silence; after 0.2 s for what was in flight.
    expect(rms(duringHold.subarray(Math.min(duringHold.length, Math.round(0.2 * sampleRate))))).toBeLessThan(50);
    await phone.until(hearsOurTone, 5000, `our ${OUR_TONE} Hz tone while we hold`);
    await call.retrieve();
    expect(call.state).toBe('CONNECTED');
    expect(await nextHeardFrequency(us, 0.75)).toBeCloseTo(PAGE_TONE, -1);

    await phone.hangup();
    await waitFor(() => call.state === 'DISCONNECTED', 5000, 'our call ended by the browser\'s BYE');
    await phone.until((state) => state.session === 'Terminated', 5000, 'the browser\'s call ended');
    await expectNoPageErrors(phone);
  }, 60000);

  it('while the browser holds, our call is HELD (heldBy remote), and CONNECTED again when it retrieves', async () => {
    const [us, phone] = await Promise.all([agent('7103', 2), browserPhone('8103', 'ws')]);
    const incoming: Call[] = [];
    us.endpoint.on('incomingCall', (call) => incoming.push(call));
    await phone.call(`sip:7103@127.0.0.1`);
    await waitFor(() => incoming.length === 1, 10000, 'the browser\'s call at our endpoint');
    const call = incoming[0]!;
    await call.answer();
    await waitFor(() => call.state === 'CONNECTED', 10000, 'our call CONNECTED');
    await phone.until((state) => state.session === 'Established', 10000, 'the call established');
    await phone.hold(true);
    await waitFor(() => call.state === 'HELD', 2000, 'our call HELD by the browser');
    expect(call.info().heldBy).toBe('remote');
    await phone.hold(false);
    await waitFor(() => call.state === 'CONNECTED', 2000, 'our call CONNECTED again');
  }, 60000);
});
