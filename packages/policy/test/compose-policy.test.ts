import { composePolicy, DefaultPolicy, headerValues, type AnswerDecision } from '@sip-endpoint/policy';
import { answerContext, builtIn, config, jabra } from './support/context';

describe('composePolicy', () => {
  const base = new DefaultPolicy();

  it('replaces one method and lets it call the base', async () => {
    const policy = composePolicy(base, {
      shouldAnswer: (ctx, original) =>
        headerValues(ctx.headers, 'X-Priority')[0] === 'vip' ? { answer: true, delayMs: 0, reason: 'VIP' } : original.shouldAnswer(ctx),
    });
    const cfg = config();
    expect(await policy.shouldAnswer(answerContext({ config: cfg, devices: builtIn, headers: { 'x-priority': 'vip' } }))).toMatchObject({ answer: true, reason: 'VIP' });
    expect(await policy.shouldAnswer(answerContext({ config: cfg, devices: builtIn }))).toMatchObject({ answer: 'unknown' });
  });

  it('keeps the other methods of the base', async () => {
    const policy = composePolicy(base, {});
    expect(await policy.canMakeCall({ config: config(), devices: builtIn, calls: [], destination: '1', line: 0 })).toEqual({ allowed: true });
  });

  it('an overridden selectDevices changes the base\'s decisions that depend on it', async () => {
    const policy = composePolicy(base, {
      selectDevices: (ctx) => ({ input: ctx.devices[0] ?? null, output: ctx.devices[1] ?? null, ringer: null, headsetAvailable: true, reason: 'always a headset' }),
    });
    const cfg = config({ 'device.use_headset': '1', 'session.reject_session_when_headset_na': '1', 'session.auto_answer': '1' });
    expect(await base.shouldAnswer(answerContext({ config: cfg, devices: builtIn }))).toMatchObject({ answer: false });
    expect(await policy.shouldAnswer(answerContext({ config: cfg, devices: builtIn }))).toMatchObject({ answer: true });
  });

  it('accepts asynchronous overrides', async () => {
    const policy = composePolicy(base, {
      selectDevices: async (ctx, original) => {
        await new Promise((resolve) => setTimeout(resolve, 1)); // a real await: the override is asynchronous
        return original.selectDevices({ ...ctx, devices: [...ctx.devices, ...jabra] });
      },
    });
    const cfg = config({ 'device.use_headset': '1', 'device.headset_name': 'Jabra', 'session.auto_answer': '1' });
    const decision: AnswerDecision = await policy.shouldAnswer(answerContext({ config: cfg, devices: builtIn }));
    expect(decision.answer).toBe(true);
  });
});
