import { EndpointConfig } from '@sip-endpoint/config';
import { VirtualAudioProvider } from '@sip-endpoint/media';
import { Endpoint } from '@sip-endpoint/endpoint-core';

// An agent desktop embedding the Endpoint: the endpoint's events are mapped to a small, plain UI
// state object (what a React/Vue/Electron view would render), printed each time it changes, and
// the UI's buttons call the endpoint. Self-contained: the desktop and a customer are two
// stand-alone endpoints on 127.0.0.1; the customer calls, the agent clicks Answer, Hold,
// Retrieve, Hang up.
//
//   tsx examples/agent-desktop.ts

/** What the desktop shows. Plain data: it can be serialised, diffed, sent to a renderer. */
interface DesktopView {
  /** The session status (`INITIALIZED`, `WAITING_HEADSET`, ...). */
  status: string;
  lines: { line: number; user: string; state: string }[];
  calls: { id: string; direction: 'incoming' | 'outgoing'; state: string; remote: string; codec: string | undefined }[];
  /** The devices in use, and whether they are the configured headset. */
  devices: { headset: boolean; microphone: string | undefined; speaker: string | undefined };
  /** The status bar: the last thing that happened. */
  message: string;
}

/** The glue between the Endpoint and a UI: events in, a view out; UI actions in, endpoint calls out. */
class AgentDesktop {
  readonly #endpoint: Endpoint;
  readonly #onChange: (view: DesktopView) => void;
  #view: DesktopView;
  #message = 'Starting';
  #shown = '';

  constructor(endpoint: Endpoint, onChange: (view: DesktopView) => void) {
    this.#endpoint = endpoint;
    this.#onChange = onChange;
    this.#view = this.#snapshot();
    // Events only say that something changed; the view is rebuilt from the endpoint's snapshots.
    endpoint.on('connectionStateChanged', (line, state) => this.#update(`Line ${line} ${state.toLowerCase()}`));
    endpoint.on('statusChanged', () => this.#update());
    endpoint.on('devicesChanged', () => this.#update('Audio devices changed'));
    endpoint.on('incomingCall', (call) => this.#update(`Incoming call from ${call.info().remote}`));
    endpoint.on('callStateChanged', (call, state) => {
      const info = call.info();
      const messages: Record<string, string> = { CONNECTED: `Talking to ${info.remote} (${info.codec ?? 'no codec'})`, HELD: 'On hold', DISCONNECTED: 'Call ended', ALERTING: 'Ringing at the far end' };
      this.#update(messages[state]);
    });
    endpoint.on('dtmf', (_call, event) => this.#update(`Digit ${event.digit} received`));
    endpoint.on('listenerError', (error) => this.#update(`Internal error: ${error.message}`));
  }

  get view(): DesktopView {
    return this.#view;
  }

  async start(): Promise<void> {
    await this.#endpoint.start();
    this.#update('Ready');
  }

  async stop(): Promise<void> {
    await this.#endpoint.stop();
    this.#update('Signed out');
  }

  // The UI's buttons. A failure goes to the status bar, as a desktop would show it.
  answer(callId: string): Promise<void> {
    return this.#action('Answer', callId, (call) => call.answer());
  }

  hold(callId: string): Promise<void> {
    return this.#action('Hold', callId, (call) => call.hold());
  }

  retrieve(callId: string): Promise<void> {
    return this.#action('Retrieve', callId, (call) => call.retrieve());
  }

  hangUp(callId: string): Promise<void> {
    return this.#action('Hang up', callId, (call) => call.hangup());
  }

  async #action(name: string, callId: string, run: (call: Endpoint['calls'][number]) => Promise<void>): Promise<void> {
    const call = this.#endpoint.calls.find((c) => c.id === callId);
    try {
      if (!call) throw new Error(`no call ${callId}`);
      await run(call);
    } catch (error) {
      this.#update(`${name} failed: ${(error as Error).message}`);
    }
  }

  #snapshot(): DesktopView {
    const session = this.#endpoint.session();
    return {
      status: session.status,
      lines: session.connectivities.connections.map((connection, line) => ({ line, user: connection.user, state: connection.state })),
      // A call that just ended leaves the list (the endpoint forgets it right after this event).
      calls: this.#endpoint.calls
        .map((call) => call.info())
        .filter((info) => info.state !== 'DISCONNECTED')
        .map((info) => ({ id: info.id, direction: info.direction, state: info.state, remote: info.remote, codec: info.codec })),
      devices: { headset: session.devices.headset_used, microphone: session.devices.microphone?.name, speaker: session.devices.speaker?.name },
      message: this.#message,
    };
  }

  #update(message?: string): void {
    if (message) this.#message = message;
    const view = this.#snapshot();
    const text = JSON.stringify(view);
    if (text === this.#shown) return;
    this.#shown = text;
    this.#view = view;
    this.#onChange(view);
  }
}

const started = performance.now();

/** One printed line per view change: what a status bar, a line list and a call list would show. */
const clock = (): string => ((performance.now() - started) / 1000).toFixed(3).padStart(6);

function render(view: DesktopView): void {
  const seconds = clock();
  const lines = view.lines.map((l) => `line ${l.line} ${l.user} ${l.state}`).join(', ') || 'no line';
  const calls = view.calls.map((c) => `${c.id} ${c.direction === 'incoming' ? 'from' : 'to'} ${c.remote} ${c.state}${c.codec ? ` ${c.codec}` : ''}`).join(', ') || 'no call';
  console.log(`${seconds} s  [${view.status}${view.devices.headset ? ', headset' : ', no headset'}] ${lines} | ${calls} | ${view.message}`);
}

/** A stand-alone endpoint on 127.0.0.1 whose virtual microphone plays a tone and whose speaker records. */
function standalone(user: string, sipPort: number, rtpBase: number, toneHz: number, settings: Record<string, string> = {}): Endpoint {
  const config = EndpointConfig.defaults().with({
    'user:0': user,
    'server:0': '127.0.0.1',
    'proxies.proxy0.reg_timeout': '0', // no REGISTER: the line is STANDALONE
    'policy.endpoint.public_address': '127.0.0.1',
    'policy.endpoint.sip_port_min': String(sipPort),
    'policy.endpoint.sip_port_max': String(sipPort + 6),
    'policy.endpoint.rtp_port_min': String(rtpBase),
    'policy.endpoint.rtp_port_max': String(rtpBase + 49),
    'system.media.ringing_file': '',
    'policy.session.ringing_file': '',
    ...settings,
  });
  const devices = new VirtualAudioProvider({ defaults: false });
  devices.addInput({ name: 'Headset Microphone (Jabra)', id: 'mic' }, { kind: 'tone', frequencies: [toneHz], levelDbfs: -18 });
  devices.addOutput({ name: 'Headset Earphone (Jabra)', id: 'speaker' }, { record: true });
  return new Endpoint({ config, devices });
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    console.error('agent desktop failed: it did not finish within 15 s');
    process.exit(1);
  }, 15000);
  // The agent's headset is required (`use_headset`), and found by name.
  const agent = standalone('7001', 62020, 62200, 440, { 'policy.device.use_headset': '1', 'policy.device.headset_name': 'Jabra' });
  const customer = standalone('7002', 62030, 62250, 880, { 'policy.session.auto_answer': '1' });
  const desktop = new AgentDesktop(agent, render);
  const click = (button: string): void => console.log(`${clock()} s  (the agent clicks ${button})`);
  const seen: string[] = [];
  const until = async (what: string, check: (view: DesktopView) => boolean, ms = 3000): Promise<DesktopView> => {
    for (const deadline = performance.now() + ms; !check(desktop.view); await sleep(20)) {
      if (performance.now() > deadline) throw new Error(`the desktop never showed ${what}`);
    }
    seen.push(what);
    return desktop.view;
  };

  let failure: Error | undefined;
  try {
    await desktop.start();
    await customer.start();
    await until('the line ready', (view) => view.lines[0]?.state === 'STANDALONE' && view.status === 'INITIALIZED');

    // The customer calls the agent; the desktop shows the call ringing.
    void customer.makeCall(`sip:7001@127.0.0.1:${agent.lines[0]!.port}`).catch((error: Error) => console.error(`the customer's call failed: ${error.message}`));
    const ringing = (await until('a ringing call', (view) => view.calls[0]?.state === 'RINGING')).calls[0]!;

    // The agent reads who calls, then clicks Answer.
    await sleep(500);
    click('Answer');
    await desktop.answer(ringing.id);
    await until('the call connected', (view) => view.calls[0]?.state === 'CONNECTED' && view.calls[0].codec !== undefined);
    await sleep(800);
    click('Hold');
    await desktop.hold(ringing.id);
    await until('the call held', (view) => view.calls[0]?.state === 'HELD');
    await sleep(500);
    click('Retrieve');
    await desktop.retrieve(ringing.id);
    await until('the call connected again', (view) => view.calls[0]?.state === 'CONNECTED');
    await sleep(500);
    click('Hang up');
    await desktop.hangUp(ringing.id);
    await until('no call left', (view) => view.calls.length === 0 && view.message === 'Call ended');
    for (let waited = 0; customer.calls.length > 0; waited += 20) {
      if (waited > 3000) throw new Error('the customer\'s call is still up 3 s after the agent hung up');
      await sleep(20);
    }
  } catch (error) {
    failure = error as Error;
  } finally {
    await desktop.stop();
    await customer.stop();
    clearTimeout(watchdog);
  }
  if (failure) {
    console.error(`agent desktop failed: ${failure.message}`);
    process.exit(1);
  }
  console.log(`the desktop showed, in order: ${seen.join('; ')}`);
  // sip.js keeps transaction timers after the endpoints stop; nothing is left to wait for.
  process.exit(0);
}

main().catch((error: Error) => {
  console.error(`agent desktop failed: ${error.message}`);
  process.exit(1);
});
