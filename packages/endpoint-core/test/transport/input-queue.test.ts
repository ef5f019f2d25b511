// @serial-test: judged by timing or by audio as heard; runs alone, after the others (scripts/run-jest.cjs).
import { createSocket } from 'node:dgram';
import { testPorts, waitFor } from '@sip-endpoint/test-support';
import { bindSipUdp, UdpTransport } from '../../src/transport/udp-transport';
import { droppedInput, handleInTurn, MAX_WAITING } from '../../src/transport/input-queue';

const busy = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('SIP input, one message per turn of the event loop', () => {
  it('runs queued tasks in order, one per turn of the event loop: timers run between them, and so do the promises each one started', async () => {
    const order: number[] = [];
    const timerRanAfter: number[] = [];
    // 40 tasks of 1 ms; the first sets a timer. Run in one go, they would hold it for 39 ms.
    // Each task starts a chain of promises and a nextTick; the next task sees them settled.
    const settledBefore: boolean[] = [];
    let settled = true;
    for (let i = 0; i < 40; i++) {
      handleInTurn(() => {
        if (i === 0) setTimeout(() => timerRanAfter.push(order.length), 0);
        settledBefore.push(settled);
        settled = false;
        busy(1);
        order.push(i);
        void Promise.resolve()
          .then(() => undefined)
          .then(() => process.nextTick(() => void Promise.resolve().then(() => (settled = true))));
      });
    }
    await waitFor(() => order.length === 40, 5000, 'every task run');
    expect(order).toEqual([...Array(40).keys()]);
    expect(settledBefore).toEqual(Array(40).fill(true));
    expect(timerRanAfter).toHaveLength(1);
    expect(timerRanAfter[0]).toBeGreaterThan(0);
    expect(timerRanAfter[0]).toBeLessThanOrEqual(4);
  });

  it('a task that throws is reported as a process warning; the ones after it still run', async () => {
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const ran: string[] = [];
    try {
      handleInTurn(() => ran.push('a'));
      handleInTurn(() => {
        throw new Error('handler bug');
      });
      handleInTurn(() => ran.push('c'));
      await waitFor(() => ran.length === 2, 5000, 'the tasks around the one that threw');
      expect(emitWarning).toHaveBeenCalledTimes(1);
      expect(emitWarning.mock.calls[0]![0]).toBe('a SIP input handler threw: handler bug');
      expect(emitWarning.mock.calls[0]![1]).toMatchObject({ type: 'SipInputWarning', detail: expect.stringContaining('handler bug') });
    } finally {
      emitWarning.mockRestore();
    }
    expect(ran).toEqual(['a', 'c']);
  });

  it('a flood beyond what waits is dropped, counted and warned of once; what was queued is handled in order', async () => {
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const ran: number[] = [];
    const droppedBefore = droppedInput();
    try {
      for (let i = 0; i < MAX_WAITING + 500; i++) handleInTurn(() => ran.push(i));
      expect(droppedInput() - droppedBefore).toBe(500);
      await waitFor(() => ran.length === MAX_WAITING, 10_000, 'the queued messages handled');
      expect(ran).toEqual([...Array(MAX_WAITING).keys()]);
      expect(emitWarning).toHaveBeenCalledTimes(1);
      expect(String(emitWarning.mock.calls[0]![0])).toMatch(new RegExp(`${MAX_WAITING} messages wait to be handled; \\d+ dropped so far`));
      // Once the queue has drained, messages are taken again.
      handleInTurn(() => ran.push(-1));
      await waitFor(() => ran.at(-1) === -1, 5000, 'a message after the flood');
    } finally {
      emitWarning.mockRestore();
    }
  }, 20_000);

  it('a burst of 150 datagrams handled at 1 ms each holds the event loop for one at a time, not for all of them', async () => {
    const first = testPorts(10);
    const socket = await bindSipUdp('127.0.0.1', first, first + 9);
    const transport = new UdpTransport(undefined, { socket, viaHost: '127.0.0.1', target: undefined, tcp: false });
    const seen: number[] = [];
    transport.onMessage = (message) => {
      busy(1);
      // The screening parsed each request; sip.js gets the parsed message.
      seen.push(typeof message === 'string' ? Number(/^CSeq: (\d+)/m.exec(message)![1]) : message.cseq);
    };
    await transport.connect();
    const sender = createSocket('udp4');
    await new Promise<void>((resolve) => sender.bind(0, '127.0.0.1', resolve));
    const ticks: number[] = [];
    const ticker = setInterval(() => ticks.push(performance.now()), 2);
    try {
      const count = 150;
      for (let i = 1; i <= count; i++) {
        const request = [`OPTIONS sip:a@127.0.0.1:${transport.port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${sender.address().port};branch=z9hG4bK-burst-${i}`, 'Max-Forwards: 70', 'To: <sip:a@127.0.0.1>', 'From: <sip:b@127.0.0.1>;tag=b', `Call-ID: burst-${i}`, `CSeq: ${i} OPTIONS`, 'Content-Length: 0', '', ''].join('\r\n');
        sender.send(request, transport.port, '127.0.0.1');
      }
      await waitFor(() => seen.length === count, 10_000, 'every datagram handled');
      expect(seen).toEqual([...Array(count).keys()].map((i) => i + 1));
    } finally {
      clearInterval(ticker);
      sender.close();
      await transport.dispose();
    }
    // The 150 ms of handling were cut into turns of the loop: the 2 ms timer kept running, never
    // more than a message late (plus the machine's own hiccups).
    const gaps = ticks.slice(1).map((t, i) => t - ticks[i]!);
    expect(ticks.length).toBeGreaterThan(15);
    expect(Math.max(...gaps)).toBeLessThan(60);
  }, 20_000);
});
