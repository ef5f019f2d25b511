import { EndpointConfig } from '@sip-endpoint/config';
import { composePolicy, DefaultPolicy, headerValues, type AnswerContext, type AudioDevice } from '@sip-endpoint/policy';

// An integrator's policy: calls carrying "X-Auto-Answer: true" are answered at once; every other
// decision is the specification's default.
export const policy = composePolicy(new DefaultPolicy(), {
  shouldAnswer: (ctx, base) =>
    headerValues(ctx.headers, 'X-Auto-Answer')[0]?.toLowerCase() === 'true'
      ? { answer: true, delayMs: 0, reason: 'X-Auto-Answer: true' }
      : base.shouldAnswer(ctx),
});

const config = EndpointConfig.defaults().with({ 'policy.device.use_headset': '1', 'policy.device.headset_name': 'Jabra' });
const devices: AudioDevice[] = [
  { id: 'mic-1', name: 'Microphone Array (Realtek(R) Audio)', kind: 'input' },
  { id: 'spk-1', name: 'Speakers (Realtek(R) Audio)', kind: 'output' },
];
const call = (headers: AnswerContext['headers']): AnswerContext => ({ config, devices, calls: [], headers, line: 0 });

async function main(): Promise<void> {
  console.log(await policy.shouldAnswer(call({ 'X-Auto-Answer': 'true' }))); // answered at once
  console.log(await policy.shouldAnswer(call({ 'Alert-Info': '<http://x>;info=alert-autoanswer' }))); // default: no headset, it rings
  const selection = await policy.selectDevices({ config, devices, calls: [] });
  console.log(selection.headsetAvailable, selection.output?.name); // false Speakers (Realtek(R) Audio)
}

void main();
