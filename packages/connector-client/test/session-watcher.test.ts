import { SipEndpointError } from '@sip-endpoint/config';
import { ConnectorArgumentError, ConnectorClient, ConnectorForbiddenError } from '@sip-endpoint/connector-client';
import { ListenerError } from '@sip-endpoint/policy';
import { testPorts, waitFor } from '@sip-endpoint/test-support';
import type { Config, Session, SessionWatcher, SessionWatcherEvents } from '@sip-endpoint/connector-client';
import { TranscriptPeer } from './support/transcript-peer';
import { LOGIN_CONFIG_TEXT, REGISTERED_SESSION_TEXT } from './support/transcript';

const LOGIN_CONFIG = JSON.parse(LOGIN_CONFIG_TEXT) as Config;

/** A window of time the test measures (a rate, or that nothing happens), not a wait for a condition. */
const elapse = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Every event of a watcher, in order, as [name, ...args]. */
function record(watcher: SessionWatcher): unknown[][] {
  const events: unknown[][] = [];
  const names: (keyof SessionWatcherEvents | 'listenerError')[] = [
    'statusChanged', 'connectionAdded', 'connectionStateChanged', 'connectionRemoved', 'callAdded', 'callStateChanged', 'callRemoved',
    'devicesChanged', 'vqAlarmChanged', 'pollFailed', 'sessionLost', 'listenerError',
  ];
  for (const name of names) watcher.on(name, (...args: unknown[]) => events.push([name, ...args]));
  return events;
}

function snapshot(edit: (s: Session) => void): Session {
  const s = JSON.parse(REGISTERED_SESSION_TEXT) as Session;
  edit(s);
  return s;
}

describe('ConnectorClient.watch()', () => {
  // Real polls over HTTP: more than the 5 s the waits below allow each.
  jest.setTimeout(20_000);
  let peer: TranscriptPeer;
  let client: ConnectorClient;
  let watcher: SessionWatcher | undefined;

  beforeEach(async () => {
    const port = testPorts(1);
    peer = await new TranscriptPeer().listen(port);
    client = new ConnectorClient({ baseUrl: `http://127.0.0.1:${port}`, origin: 'http://desktop:8080' });
    await client.openSession(LOGIN_CONFIG);
  });

  afterEach(async () => {
    await watcher?.stop();
    watcher = undefined;
    await peer.close();
  });

  it('reports status, connection, call, device and VQ alarm changes as the session changes', async () => {
    peer.snapshot = snapshot((s) => {
      s.status = 'INITIALIZING';
      s.connectivities!.connections![0]!.state = 'TRYING';
    });
    watcher = client.watch({ intervalMs: 100 });
    const events = record(watcher);
    const sessions: Session[] = [];
    watcher.on('session', (s) => sessions.push(s));
    const step = async (next: Session, expected: unknown[][]) => {
      events.length = 0;
      const seen = sessions.length;
      peer.snapshot = next;
      // Two polls later the new snapshot has surely been read.
      await waitFor(() => sessions.length >= seen + 2, 5000, 'two polls after the change');
      expect(events).toEqual(expected);
    };

    await waitFor(() => sessions.length >= 1, 5000, 'the first poll');
    const connection = { server: '135.39.45.32:5060', user: '5320', state: 'TRYING' };
    expect(events).toEqual([
      ['statusChanged', 'INITIALIZING', undefined],
      ['connectionAdded', connection],
      ['connectionStateChanged', connection, 'TRYING', undefined],
      ['devicesChanged', (peer.snapshot as Session).devices, undefined],
    ]);

    await step(snapshot(() => undefined), [
      ['statusChanged', 'INITIALIZED', 'INITIALIZING'],
      ['connectionStateChanged', { ...connection, state: 'READY' }, 'READY', 'TRYING'],
    ]);

    const ringing = { uuid: '0B4C2A4E-1111-4D2B-9E0E-5F5F5F5F5F5F', state: 'RINGING' } as const;
    await step(snapshot((s) => (s.phone!.calls = [ringing])), [
      ['callAdded', ringing],
      ['callStateChanged', ringing, 'RINGING', undefined],
    ]);

    const connected = { ...ringing, state: 'CONNECTED' } as const;
    await step(snapshot((s) => (s.phone!.calls = [connected])), [['callStateChanged', connected, 'CONNECTED', 'RINGING']]);

    const alarmed = snapshot((s) => (s.phone = { calls: [connected], vq_alarm_on: true, local_mos: 2.1, local_inter_mos: 1.9, rtt_ms: 420 }));
    await step(alarmed, [['vqAlarmChanged', true, alarmed.phone]]);

    const muted = snapshot((s) => {
      s.phone = alarmed.phone;
      s.devices!.microphone!.muted = true;
    });
    await step(muted, [['devicesChanged', muted.devices, alarmed.devices]]);

    const ended = snapshot((s) => (s.devices = muted.devices));
    await step(ended, [
      ['callRemoved', connected],
      ['vqAlarmChanged', false, ended.phone],
    ]);

    // A second connection, then the first one gone.
    const second = { server: '135.39.45.33:5060', user: '5321', state: 'TRYING' } as const;
    await step(snapshot((s) => {
      s.devices = muted.devices;
      s.connectivities!.connections!.push(second);
    }), [
      ['connectionAdded', second],
      ['connectionStateChanged', second, 'TRYING', undefined],
    ]);
    await step(snapshot((s) => {
      s.devices = muted.devices;
      s.connectivities!.connections = [second];
    }), [['connectionRemoved', { ...connection, state: 'READY' }]]);
    expect(watcher.session).toEqual(peer.snapshot);
  });

  it('sends GET /session every intervalMs as the keep-alive, with the session cookie, and stops on stop()', async () => {
    const before = peer.requests.length;
    watcher = client.watch({ intervalMs: 200 });
    // One at once, then one every 200 ms: five of them are waited for, however slow the machine.
    await waitFor(() => peer.requests.length - before >= 5, 10000, 'five polls');
    await watcher.stop();
    const polls = peer.requests.slice(before);
    expect(polls.length).toBeGreaterThanOrEqual(5);
    // Not more often than intervalMs: the fifth starts four intervals after the first at the
    // earliest. A lower bound, which a loaded machine only makes easier to meet; one interval of it
    // is left for the first poll reaching the peer later after its start than the fifth.
    expect(polls[4]!.receivedAt - polls[0]!.receivedAt).toBeGreaterThanOrEqual(3 * 200);
    for (const poll of polls) {
      expect(`${poll.method} ${poll.url}`).toBe('GET /softphone/v2/session');
      expect(poll.headers.cookie).toBe(`SEPSESSIONID=${client.sessionId}`);
    }
    const count = peer.requests.length;
    // No poll may follow stop(): a quiet spell is the check.
    await elapse(500);
    expect(peer.requests.length).toBe(count);
    expect(watcher.running).toBe(false);
    await watcher.stop(); // twice: nothing happens
  });

  it('never has two polls in flight: a slow answer delays the next poll', async () => {
    watcher = client.watch({ intervalMs: 50 });
    await waitFor(() => watcher!.session !== undefined, 5000, 'the first poll');
    const before = peer.requests.length;
    const scriptedAt = Date.now();
    peer.scripted.push({ status: 200, body: REGISTERED_SESSION_TEXT, delayMs: 600 });
    await waitFor(() => peer.requests.length - before >= 3, 5000, 'three polls from the slow one on');
    // The first poll after the script took the slow answer; none came while it was in flight.
    const slow = peer.requests[before]!;
    expect(slow.answeredAt! - slow.receivedAt).toBeGreaterThanOrEqual(590);
    const later = peer.requests.slice(before + 1);
    for (const poll of later) expect(poll.receivedAt).toBeGreaterThanOrEqual(slow.answeredAt!);
    // Within 500 ms of the script, at most the poll that hit the delay was sent.
    expect(peer.requests.slice(before).filter((poll) => poll.receivedAt - scriptedAt < 500).length).toBeLessThanOrEqual(1);
  });

  it('reports a failed poll and a lost session (403 after a session), and keeps polling', async () => {
    watcher = client.watch({ intervalMs: 80 });
    const events = record(watcher);
    await waitFor(() => watcher!.session !== undefined, 5000, 'the first poll');
    peer.sessions.clear(); // the Softphone ended the session (session_expire)
    await waitFor(() => events.some(([name]) => name === 'sessionLost'), 5000, 'sessionLost');
    const lost = events.find(([name]) => name === 'sessionLost')![1];
    expect(lost).toBeInstanceOf(ConnectorForbiddenError);
    expect(events.filter(([name]) => name === 'sessionLost')).toHaveLength(1);
    const failures = events.filter(([name]) => name === 'pollFailed').length;
    await waitFor(() => events.filter(([name]) => name === 'pollFailed').length >= failures + 2, 5000, 'two more failed polls');
    // Still one sessionLost, however many polls fail.
    expect(events.filter(([name]) => name === 'sessionLost')).toHaveLength(1);
  });

  it('a 200 outside the schema is a pollFailed, not a crash', async () => {
    watcher = client.watch({ intervalMs: 80 });
    const events = record(watcher);
    peer.snapshot = { status: 'SLEEPING' };
    await waitFor(() => events.some(([name]) => name === 'pollFailed'), 5000, 'pollFailed');
    expect(events.find(([name]) => name === 'pollFailed')![1]).toMatchObject({ code: 'ERR_CONNECTOR_INVALID_RESPONSE' });
    expect(watcher.session).toBeUndefined();
  });

  it('a listener that throws is reported as listenerError and polling goes on', async () => {
    watcher = client.watch({ intervalMs: 80 });
    const errors: ListenerError[] = [];
    let sessions = 0;
    watcher.on('listenerError', (error) => errors.push(error));
    watcher.on('session', () => {
      sessions++;
      throw new Error('desktop bug');
    });
    await waitFor(() => sessions >= 3, 5000, 'three polls after the listeners threw');
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors[0]!.cause).toBeInstanceOf(Error);
    expect((errors[0]!.cause as Error).message).toBe('desktop bug');
    expect(errors[0]!.message).toContain('desktop bug');
  });

  it('reports a throwing listener as a ListenerError naming the watcher and the event; the other listeners and the later polls still run', async () => {
    const errors: ListenerError[] = [];
    const statuses: unknown[] = [];
    let sessions = 0;
    watcher = client.watch({ intervalMs: 80 });
    watcher.on('listenerError', (error) => errors.push(error));
    watcher.on('statusChanged', () => {
      throw new Error('desktop bug in statusChanged');
    });
    watcher.on('statusChanged', (status) => statuses.push(status));
    watcher.on('session', () => {
      throw 'not even an Error';
    });
    watcher.on('session', () => sessions++);

    await waitFor(() => sessions >= 3, 5000, 'three polls after the listeners threw');
    expect(watcher.running).toBe(true);
    // The first poll's statusChanged reached the listener after the throwing one.
    expect(statuses).toEqual(['INITIALIZED']);
    const [first, second] = errors;
    expect(first).toBeInstanceOf(ListenerError);
    expect(first).toBeInstanceOf(SipEndpointError);
    expect(first).toMatchObject({ code: 'ERR_LISTENER_THREW', source: 'SessionWatcher', event: 'statusChanged' });
    expect((first!.cause as Error).message).toBe('desktop bug in statusChanged');
    expect(second).toMatchObject({ code: 'ERR_LISTENER_THREW', source: 'SessionWatcher', event: 'session', cause: 'not even an Error' });
    // One error per throw: one statusChanged (the status never changed again), one per poll's session.
    expect(errors.filter((error) => error.event === 'statusChanged')).toHaveLength(1);
    expect(errors.filter((error) => error.event === 'session').length).toBeGreaterThanOrEqual(3);
  });

  it('rejects an intervalMs below 10 ms with ConnectorArgumentError', () => {
    expect(() => client.watch({ intervalMs: 0 })).toThrow(ConnectorArgumentError);
    expect(() => client.watch({ intervalMs: Number.NaN })).toThrow(/intervalMs/);
  });

  it('rejects an intervalMs longer than a timer holds (it would poll every millisecond) with ConnectorArgumentError', () => {
    expect(() => client.watch({ intervalMs: 2 ** 31 })).toThrow(ConnectorArgumentError);
    expect(() => client.watch({ intervalMs: Number.POSITIVE_INFINITY })).toThrow(/^intervalMs /);
  });
});
