import { EndpointConfig } from '@sip-endpoint/config';
import { ConnectorClient, type Config, type SessionWatcher } from '@sip-endpoint/connector-client';
import { Endpoint } from '@sip-endpoint/endpoint-core';
import { VirtualAudioProvider } from '@sip-endpoint/media';
import { Softphone } from '@sip-endpoint/softphone';

// A desktop driving a running headless Softphone through the Connector API v2, with the typed
// client. Self-contained: the Softphone runs in this process in connector mode (its Connector API
// on http://127.0.0.1:62480), its line is stand-alone (no SIP server), and a customer's endpoint
// calls it once it is "registered", so that the desktop's watcher sees a call come and go.
//
//   tsx examples/connector-client.ts

const CONNECTOR_PORT = 62480;
const started = performance.now();

/** One line of the timeline: seconds since start, who, what. */
function timeline(who: string, what: string): void {
  const seconds = ((performance.now() - started) / 1000).toFixed(3).padStart(7);
  console.log(`${seconds} s  ${who.padEnd(9)}  ${what}`);
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

async function waitUntil(what: string, check: () => boolean, ms = 5000): Promise<void> {
  for (const deadline = performance.now() + ms; !check(); await sleep(20)) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
  }
}

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    console.error('connector client failed: it did not finish within 20 s');
    process.exit(1);
  }, 20000);

  // The Softphone, as its Softphone.config would set it up: connector mode (`policy.connector.port`).
  const softphone = new Softphone({
    config: EndpointConfig.defaults().with({
      'policy.connector.port': String(CONNECTOR_PORT),
      'policy.endpoint.public_address': '127.0.0.1',
      'policy.endpoint.sip_port_min': '62040',
      'policy.endpoint.sip_port_max': '62046',
      'policy.endpoint.rtp_port_min': '62300',
      'policy.endpoint.rtp_port_max': '62349',
      'system.media.ringing_file': '',
      'policy.session.ringing_file': '',
    }),
  });
  softphone.on('listening', (url) => timeline('softphone', `Connector API listening at ${url}`));
  softphone.on('sessionStarted', () => timeline('softphone', 'client session started'));
  softphone.on('sessionEnded', (reason) => timeline('softphone', `client session ended (${reason})`));
  softphone.on('error', (error) => timeline('softphone', `error: ${error.message}`));

  // A customer somewhere else: a stand-alone endpoint that will call the agent's line.
  const customerDevices = new VirtualAudioProvider({ defaults: false });
  customerDevices.addInput({ name: 'Customer microphone', id: 'mic' }, { kind: 'tone', frequencies: [440], levelDbfs: -18 });
  customerDevices.addOutput({ name: 'Customer speaker', id: 'speaker' });
  const customer = new Endpoint({
    config: EndpointConfig.defaults().with({
      'user:0': '6002',
      'server:0': '127.0.0.1',
      'proxies.proxy0.reg_timeout': '0',
      'policy.endpoint.public_address': '127.0.0.1',
      'policy.endpoint.sip_port_min': '62050',
      'policy.endpoint.sip_port_max': '62056',
      'policy.endpoint.rtp_port_min': '62350',
      'policy.endpoint.rtp_port_max': '62399',
    }),
    devices: customerDevices,
  });

  let failure: Error | undefined;
  const client = new ConnectorClient({ baseUrl: `http://127.0.0.1:${CONNECTOR_PORT}`, origin: 'http://127.0.0.1:8080' });
  let watcher: SessionWatcher | undefined;
  try {
    await softphone.start();
    await customer.start();

    // The desktop's login: GET /session (403 and a session cookie), POST /session, GET /session.
    // The line is stand-alone (reg_timeout 0: no REGISTER), and calls are answered automatically.
    const login: Config = {
      options: {
        sipendpoint: { 'proxies.proxy0.reg_timeout': '0', 'policy.session.auto_answer': '1' },
        softphone: { session_expire: 30 },
      },
      connectivities: { protocol: 'udp', connections: [{ server: '127.0.0.1', user: '6001' }] },
    };
    const session = await client.openSession(login);
    timeline('desktop', `session ${client.sessionId ?? '?'} opened (Softphone ${client.softphoneVersion ?? '?'}): status ${session.status}, line ${session.connectivities?.connections?.[0]?.user ?? '?'} ${session.connectivities?.connections?.[0]?.state ?? '?'}`);

    // The keep-alive: GET /session every 200 ms, reported as changes.
    const watch = client.watch({ intervalMs: 200 });
    watcher = watch;
    watch.on('statusChanged', (status, previous) => timeline('desktop', `status ${previous ?? 'none'} -> ${status}`));
    watch.on('connectionStateChanged', (connection, state, previous) => timeline('desktop', `line ${connection.user}@${connection.server}: ${previous ?? 'none'} -> ${state}`));
    watch.on('callAdded', (call) => timeline('desktop', `call ${call.uuid} added`));
    watch.on('callStateChanged', (call, state, previous) => timeline('desktop', `call ${call.uuid}: ${previous ?? 'none'} -> ${state}`));
    watch.on('callRemoved', (call) => timeline('desktop', `call ${call.uuid} removed`));
    watch.on('devicesChanged', (devices) => timeline('desktop', `devices: microphone ${devices?.microphone?.name ?? 'none'}${devices?.microphone?.muted ? ' (muted)' : ''}, speaker ${devices?.speaker?.name ?? 'none'}`));
    watch.on('pollFailed', (error) => timeline('desktop', `poll failed: ${error.message}`));
    watch.on('sessionLost', () => timeline('desktop', 'session lost'));

    await waitUntil('the first snapshot', () => watch.session !== undefined);
    timeline('desktop', '> register()');
    await client.register();
    await waitUntil('the line goes STANDALONE', () => watch.session?.connectivities?.connections?.[0]?.state === 'STANDALONE');

    // The customer calls the agent's line; the Softphone answers by policy, the desktop sees it.
    const line = softphone.endpoint?.lines[0]?.port;
    timeline('customer', `> makeCall(sip:6001@127.0.0.1:${line})`);
    const call = await customer.makeCall(`sip:6001@127.0.0.1:${line}`);
    await waitUntil('the desktop sees the call connected', () => watch.session?.phone?.calls?.[0]?.state === 'CONNECTED');
    await sleep(500);
    timeline('desktop', '> setAudio({ microphone: { muted: true } })');
    await client.setAudio({ microphone: { muted: true } });
    await waitUntil('the desktop sees the microphone muted', () => watch.session?.devices?.microphone?.muted === true);
    timeline('customer', '> hangup()');
    await call.hangup();
    await waitUntil('the desktop sees the call gone', () => (watch.session?.phone?.calls?.length ?? 0) === 0);

    timeline('desktop', '> unregister()');
    await client.unregister();
    await waitUntil('the line leaves STANDALONE', () => watch.session?.connectivities?.connections?.[0]?.state === 'SHUTDOWN');
    await watch.stop();
    timeline('desktop', '> closeSession()');
    await client.closeSession();
    await waitUntil('the Softphone ends the client session', () => !softphone.inSession);
  } catch (error) {
    failure = error as Error;
  } finally {
    await watcher?.stop();
    await customer.stop();
    await softphone.stop();
    clearTimeout(watchdog);
  }
  if (failure) {
    console.error(`connector client failed: ${failure.message}`);
    process.exit(1);
  }
  timeline('desktop', 'done');
  process.exit(0);
}

main().catch((error: Error) => {
  console.error(`connector client failed: ${error.message}`);
  process.exit(1);
});
