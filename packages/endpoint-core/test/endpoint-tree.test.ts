import { createSocket } from 'node:dgram';
import { composePolicy, DefaultPolicy, InvalidStateError, StateMachine, type ListenerError, type CallState, type ConnectionState } from '@sip-endpoint/policy';
import { testPorts } from '@sip-endpoint/test-support';
import {
  CALL_TRANSITIONS,
  ENDPOINT_TRANSITIONS,
  Endpoint,
  LINE_TRANSITIONS,
  LineNotReadyError,
  NoSuchLineError,
  PortUnavailableError,
  type Call,
  type EndpointState,
} from '@sip-endpoint/endpoint-core';
import { standaloneConfig, standaloneEndpoint, waitFor } from './support/endpoints';

/** Two stand-alone endpoints on 127.0.0.1 with their own ports; Bob answers by policy. */
function pair(bobSettings: Record<string, string> = { 'policy.session.auto_answer': '1' }) {
  const alice = standaloneEndpoint('7001', testPorts(8), testPorts(50), 900);
  const bob = standaloneEndpoint('7002', testPorts(8), testPorts(50), 500, bobSettings);
  return { alice, bob };
}

describe('the telephony tree: Endpoint -> Line -> Call -> call.media', () => {
  it('a call belongs to its line, reaches its stream through call.media, and stop() closes the tree from the top', async () => {
    const { alice, bob } = pair();
    const observed: string[] = [];
    alice.endpoint.observer.on('newLine', (line) => observed.push(`line ${line.index}`));
    alice.endpoint.observer.on('newCall', (call) => observed.push(`call ${call.direction}`));
    alice.endpoint.observer.on('close', () => observed.push('close'));
    await alice.endpoint.start();
    await bob.endpoint.start();
    try {
      expect(alice.endpoint.state).toBe('RUNNING');
      const line = alice.endpoint.lines[0]!;
      const call = await line.makeCall(`sip:7002@127.0.0.1:${bob.endpoint.lines[0]!.port}`);
      expect(line.calls).toEqual([call]);
      expect(alice.endpoint.calls).toEqual([call]);
      await waitFor(() => call.state === 'CONNECTED' && call.media.stream !== undefined, 5000, 'the call and its stream');
      expect(call.media.codec).toBe('PCMU/8000');
      expect(call.media.devices.output?.id).toBe('speaker');
      await waitFor(() => (call.media.stats()?.received.packets ?? 0) > 5, 3000, 'packets on the stream');
      const bobsCall = bob.endpoint.calls[0]!;
      expect(bob.endpoint.lines[0]!.calls).toEqual([bobsCall]);

      const closed: string[] = [];
      call.on('closed', () => closed.push('call'));
      call.media.on('closed', () => closed.push('media'));
      line.on('closed', () => closed.push('line'));
      await alice.endpoint.stop();
      expect(closed).toEqual(['media', 'call', 'line']);
      expect(call.state).toBe('DISCONNECTED');
      expect(call.media.closed).toBe(true);
      expect(line.state).toBe('SHUTDOWN');
      expect(line.calls).toEqual([]);
      expect(alice.endpoint.state).toBe('STOPPED');
      expect(observed).toEqual(['line 0', 'call outgoing', 'close']);
      await waitFor(() => bobsCall.state === 'DISCONNECTED', 3000, "Bob's call to end");
    } finally {
      await alice.endpoint.stop();
      await bob.endpoint.stop();
    }
  }, 20000);

  it('hangup() resolves once the call is DISCONNECTED: a stop() right after it still lets the far end hear the BYE', async () => {
    const { alice, bob } = pair();
    await alice.endpoint.start();
    await bob.endpoint.start();
    try {
      const call = await alice.endpoint.makeCall(`sip:7002@127.0.0.1:${bob.endpoint.lines[0]!.port}`);
      await waitFor(() => call.state === 'CONNECTED' && bob.endpoint.calls.length === 1, 5000, 'the call');
      const bobsCall = bob.endpoint.calls[0]!;
      await call.hold();
      await call.retrieve();
      await call.hangup();
      expect(call.state).toBe('DISCONNECTED');
      await alice.endpoint.stop();
      await waitFor(() => bobsCall.state === 'DISCONNECTED', 2000, "Bob's call to end by the BYE");
    } finally {
      await alice.endpoint.stop();
      await bob.endpoint.stop();
    }
  }, 20000);

  it('a listener that throws on a Call, its media, its Line or the Endpoint is reported as listenerError there and on the Endpoint; the call goes on', async () => {
    const { alice, bob } = pair();
    const onEndpoint: ListenerError[] = [];
    alice.endpoint.on('listenerError', (error) => onEndpoint.push(error));
    alice.endpoint.on('connectionStateChanged', () => {
      throw new Error('endpoint listener');
    });
    await alice.endpoint.start();
    await bob.endpoint.start();
    try {
      const line = alice.endpoint.lines[0]!;
      const onLine: ListenerError[] = [];
      line.on('listenerError', (error) => onLine.push(error));
      line.on('newCall', () => {
        throw new Error('line listener');
      });
      const call = await alice.endpoint.makeCall(`sip:7002@127.0.0.1:${bob.endpoint.lines[0]!.port}`);
      const onCall: ListenerError[] = [];
      call.on('listenerError', (error) => onCall.push(error));
      call.on('stateChanged', () => {
        throw new Error('call listener');
      });
      call.media.on('streamStarted', () => {
        throw new Error('media listener');
      });
      await waitFor(() => call.state === 'CONNECTED' && call.media.stream !== undefined, 5000, 'the call');
      await call.hold();
      expect(call.state).toBe('HELD');
      const causes = (errors: ListenerError[]): string[] => errors.map((error) => (error.cause as Error).message);
      expect(causes(onLine)).toEqual(['line listener']);
      expect(causes(onCall)).toEqual(expect.arrayContaining(['call listener', 'media listener']));
      expect(onCall.find((error) => (error.cause as Error).message === 'call listener')).toMatchObject({ source: 'Call', event: 'stateChanged', code: 'ERR_LISTENER_THREW' });
      expect(causes(onEndpoint)).toEqual(expect.arrayContaining(['endpoint listener', 'line listener', 'call listener', 'media listener']));
      await call.hangup();
      await waitFor(() => call.state === 'DISCONNECTED', 3000, 'the hang-up');
    } finally {
      await alice.endpoint.stop();
      await bob.endpoint.stop();
    }
  }, 20000);
});

describe('states', () => {
  const walk = <S extends string>(table: Record<S, readonly S[]>, from: S, to: S): (() => void) => {
    const machine = new StateMachine<S>('test', from, table, () => undefined);
    return () => machine.to(to);
  };

  it('each transition table has a way out of every state but the terminal one, and refuses the illegal moves', () => {
    expect(ENDPOINT_TRANSITIONS.STOPPED).toEqual([]);
    expect(LINE_TRANSITIONS.SHUTDOWN).toEqual([]);
    expect(CALL_TRANSITIONS.DISCONNECTED).toEqual([]);
    expect(walk<CallState>(CALL_TRANSITIONS, 'DISCONNECTED', 'CONNECTED')).toThrow(InvalidStateError);
    expect(walk<CallState>(CALL_TRANSITIONS, 'RINGING', 'ALERTING')).toThrow(InvalidStateError);
    expect(walk<CallState>(CALL_TRANSITIONS, 'IN_PROGRESS', 'HELD')).toThrow(InvalidStateError);
    expect(walk<ConnectionState>(LINE_TRANSITIONS, 'STANDALONE', 'READY')).toThrow(InvalidStateError);
    expect(walk<ConnectionState>(LINE_TRANSITIONS, 'SHUTDOWN', 'TRYING')).toThrow(InvalidStateError);
    expect(walk<EndpointState>(ENDPOINT_TRANSITIONS, 'STOPPED', 'STARTING')).toThrow(InvalidStateError);
    expect(walk<CallState>(CALL_TRANSITIONS, 'HELD', 'CONNECTED')).not.toThrow();
  });

  it('the endpoint goes NEW -> STARTING -> RUNNING -> STOPPING -> STOPPED; start() after stop() throws InvalidStateError', async () => {
    const { endpoint } = standaloneEndpoint('7010', testPorts(8), testPorts(50));
    const seen: string[] = [];
    endpoint.on('stateChanged', (state, previous) => seen.push(`${previous}->${state}`));
    expect(endpoint.state).toBe('NEW');
    await expect(endpoint.makeCall('sip:x@127.0.0.1')).rejects.toThrow(/not started: await endpoint.start\(\) first/);
    await endpoint.start();
    await endpoint.start(); // a second start does nothing more
    await endpoint.stop();
    await endpoint.stop(); // nor a second stop
    expect(seen).toEqual(['NEW->STARTING', 'STARTING->RUNNING', 'RUNNING->STOPPING', 'STOPPING->STOPPED']);
    await expect(endpoint.start()).rejects.toBeInstanceOf(InvalidStateError);
    await expect(endpoint.makeCall('sip:x@127.0.0.1')).rejects.toMatchObject({ code: 'ERR_INVALID_STATE', state: 'STOPPED' });
  });

  it('a start that fails (its SIP port is taken) closes what it opened, ends STOPPED and rejects with the reason', async () => {
    const port = testPorts(1);
    const taken = createSocket('udp4');
    await new Promise<void>((resolve) => taken.bind(port, '0.0.0.0', resolve));
    const endpoint = new Endpoint({ config: standaloneConfig('7015', port, testPorts(50), { 'policy.endpoint.sip_port_max': String(port) }) });
    try {
      await expect(endpoint.start()).rejects.toBeInstanceOf(PortUnavailableError);
      expect(endpoint.state).toBe('STOPPED');
      await expect(endpoint.start()).rejects.toBeInstanceOf(InvalidStateError);
    } finally {
      taken.close();
      await endpoint.stop();
    }
  });

  it('a line waiting for the headset is DISABLED (enforce_headset_usage) and cannot place calls; an unknown line is named', async () => {
    const endpoint = new Endpoint({ config: standaloneConfig('7020', testPorts(8), testPorts(50), { 'policy.device.headset_name': 'Jabra' }), enforceHeadsetUsage: true });
    await endpoint.start();
    try {
      expect(endpoint.lines.map((line) => line.state)).toEqual(['DISABLED']);
      expect(endpoint.session().status).toBe('WAITING_HEADSET');
      await expect(endpoint.makeCall('sip:x@127.0.0.1')).rejects.toBeInstanceOf(LineNotReadyError);
      await expect(endpoint.makeCall('sip:x@127.0.0.1', { line: 0 })).rejects.toMatchObject({ code: 'ERR_SIP_LINE_NOT_READY', state: 'DISABLED' });
      await expect(endpoint.makeCall('sip:x@127.0.0.1', { line: 3 })).rejects.toBeInstanceOf(NoSuchLineError);
      await expect(endpoint.makeCall('sip:x@127.0.0.1', { line: 3 })).rejects.toThrow(/there is no line 3: the configuration has 1 Connectivity line/);
    } finally {
      await endpoint.stop();
    }
  });
});

describe('the policy, end to end', () => {
  it("a custom codecPriorities decides what a call offers and what it answers with", async () => {
    // Alice's policy offers G.722 then PCMA, whatever the configuration lists.
    const alicePolicy = composePolicy(new DefaultPolicy(), {
      codecPriorities: (ctx) => {
        const base = new DefaultPolicy().codecPriorities(ctx);
        const pick = (name: string) => base.offer.filter((codec) => codec.name.toLowerCase().startsWith(name));
        return { ...base, offer: [...pick('g722'), ...pick('pcma'), ...pick('telephone-event')] };
      },
    });
    // Bob answers with PCMA whatever the offer's order says.
    const bobPolicy = composePolicy(new DefaultPolicy(), {
      codecPriorities: (ctx) => {
        const base = new DefaultPolicy().codecPriorities(ctx);
        return { ...base, answer: base.offer.find((codec) => codec.name.toLowerCase().startsWith('pcma')) ?? null };
      },
    });
    const codecs = { 'codecs.enabled.audio': 'pcmu,g722,pcma,telephone-event' };
    const a = standaloneEndpoint('7031', testPorts(8), testPorts(50), 900, codecs, { policy: alicePolicy }).endpoint;
    const b = standaloneEndpoint('7032', testPorts(8), testPorts(50), 500, { 'policy.session.auto_answer': '1', ...codecs }, { policy: bobPolicy }).endpoint;
    await a.start();
    await b.start();
    try {
      const call = await a.makeCall(`sip:7032@127.0.0.1:${b.lines[0]!.port}`);
      expect(call.media.codecs.map((codec) => codec.name)).toEqual(['G722/16000', 'PCMA/8000', 'telephone-event/8000']);
      await waitFor(() => call.state === 'CONNECTED' && call.media.codec !== undefined, 5000, 'the call');
      expect(call.media.codec).toBe('PCMA/8000');
      expect(b.calls[0]!.media.codec).toBe('PCMA/8000');
    } finally {
      await a.stop();
      await b.stop();
    }
  }, 20000);

  it('sendDtmf sends by policy.session.dtmf_method by default (Info: SIP INFO)', async () => {
    const alice = standaloneEndpoint('7041', testPorts(8), testPorts(50), 900, { 'policy.session.dtmf_method': 'Info' });
    const bob = standaloneEndpoint('7042', testPorts(8), testPorts(50), 500, { 'policy.session.auto_answer': '1' });
    await alice.endpoint.start();
    await bob.endpoint.start();
    try {
      const digits: string[] = [];
      bob.endpoint.on('dtmf', (_call, event) => digits.push(`${event.digit}:${event.source}`));
      const call: Call = await alice.endpoint.makeCall(`sip:7042@127.0.0.1:${bob.endpoint.lines[0]!.port}`);
      await waitFor(() => call.state === 'CONNECTED', 5000, 'the call');
      await call.sendDtmf('5#');
      await waitFor(() => digits.length === 2, 3000, 'two digits');
      expect(digits).toEqual(['5:info', '#:info']);
    } finally {
      await alice.endpoint.stop();
      await bob.endpoint.stop();
    }
  }, 20000);
});
