import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { peerAvailable, testPorts } from '@sip-endpoint/test-support';
import { kamailioAvailable } from '../support/kamailio';

// A WebRTC call over a lossy path: a network namespace made here, whose loopback drops one UDP
// packet in ten (nftables, each way, media and ICE alike: SIP runs over WSS, on TCP). The gateway
// and both agents run inside it (webrtc-lossy.mts). What libwebrtc counts reaches our statistics:
// the loss each side saw, its concealment, and a MOS the E-model lowers for it; the tone is still
// heard, as concealment covers the gaps.
const describeIf = kamailioAvailable() && peerAvailable('nft') && peerAvailable('ip') ? describe : describe.skip;

const root = join(__dirname, '..', '..', '..', '..');
const SIP = testPorts(3);
const SIP_PORTS = testPorts(14);
const RTP = testPorts(40);
/** One namespace per worker's port block: parallel runs never share one. */
const NAMESPACE = `seploss${SIP}`;
/** The share of UDP packets the namespace's loopback drops. */
const LOSS = 0.1;

interface SideReport {
  codec: string;
  stats: { received: { packets: number; lost: number; expected: number; fractionLost: number }; jitterBuffer: { concealedSamples: number } };
  quality: { mos: number; packetsLost: number };
  heard: number;
}

/** Runs the fixture in the namespace; resolves with its report line. */
function runLossyCall(seconds: number): Promise<{ alice: SideReport; bob: SideReport }> {
  const tsx = join(root, 'node_modules', '.bin', 'tsx');
  const child = spawn('ip', ['netns', 'exec', NAMESPACE, tsx, '--tsconfig', join(root, 'tsconfig.base.json'), join(__dirname, '..', 'fixtures', 'webrtc-lossy.mts'), JSON.stringify({ sip: SIP, sipPorts: SIP_PORTS, rtp: RTP, seconds })], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((candidate) => candidate.startsWith('{'));
      if (code === 0 && line) resolve(JSON.parse(line) as { alice: SideReport; bob: SideReport });
      else reject(new Error(`the lossy call's fixture exited ${code}: ${out}\n${err.slice(-3000)}`));
    });
  });
}

describeIf('a WebRTC call over a path that loses one UDP packet in ten', () => {
  beforeAll(() => {
    try {
      execFileSync('ip', ['netns', 'del', NAMESPACE], { stdio: 'ignore' });
    } catch {
      // none left over
    }
    execFileSync('ip', ['netns', 'add', NAMESPACE]);
    execFileSync('ip', ['-n', NAMESPACE, 'link', 'set', 'lo', 'up']);
    const rules = `table inet lossy {\n  chain output {\n    type filter hook output priority 0; policy accept;\n    meta l4proto udp numgen random mod 100 < ${Math.round(LOSS * 100)} drop\n  }\n}\n`;
    execFileSync('ip', ['netns', 'exec', NAMESPACE, 'nft', '-f', '-'], { input: rules });
  });
  afterAll(() => {
    try {
      execFileSync('ip', ['netns', 'del', NAMESPACE], { stdio: 'ignore' });
    } catch {
      // gone
    }
  });

  it("each side's statistics show the loss libwebrtc saw, its concealment and a lower MOS; the tone is still heard", async () => {
    const { alice, bob } = await runLossyCall(6);
    for (const [side, report, frequency] of [['alice', alice, 1000], ['bob', bob, 600]] as const) {
      const context = `${side}: ${JSON.stringify(report)}`;
      expect({ context, codec: report.codec }).toEqual({ context, codec: 'PCMU' });
      // About 300 packets in 6 s at 10 %: 30 lost, well inside 4 % to 20 % (binomial spread about 5).
      expect({ context, enough: report.stats.received.expected > 200 }).toEqual({ context, enough: true });
      expect(report.stats.received.fractionLost).toBeGreaterThan(0.04);
      expect(report.stats.received.fractionLost).toBeLessThan(0.2);
      expect(report.stats.received.lost).toBe(report.stats.received.expected - report.stats.received.packets);
      // The call's quality counts the same loss, and the E-model takes it off the MOS (the same
      // fixture without the drop rule: 4.38 each side, no loss, 480 to 960 samples concealed at
      // the start; with it: 3.3, 11 % lost, 5000 to 6000 concealed).
      expect(report.quality.packetsLost).toBeGreaterThan(0);
      expect(report.quality.mos).toBeLessThan(4);
      expect(report.quality.mos).toBeGreaterThan(2);
      // libwebrtc's concealment filled the gaps: the tone is still what is heard.
      // (at least half of each lost 20 ms frame of 8 kHz audio)
      expect(report.stats.jitterBuffer.concealedSamples).toBeGreaterThan(report.stats.received.lost * 80);
      expect(report.heard).toBeCloseTo(frequency, -1);
    }
  }, 120000);
});
