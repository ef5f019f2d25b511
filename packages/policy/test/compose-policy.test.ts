import {
  codecPriorities,
  composePolicy,
  DefaultPolicy,
  headerValues,
  ringingPlan,
  selectDevices,
  sessionStatus,
  type AnswerDecision,
  type ConnectionState,
} from '@sip-endpoint/policy';
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

// One context per decision, where every decision has something to say.
const common = { config: config({ 'session.auto_answer': '1' }), devices: builtIn, calls: [] };
const contexts = {
  shouldAnswer: answerContext(common),
  canMakeCall: { ...common, destination: '5000', line: 0 },
  selectDevices: common,
  sessionStatus: { ...common, connections: ['READY'] as ConnectionState[], enforceHeadsetUsage: false },
  ringingPlan: { ...common, selection: selectDevices(common) },
  codecPriorities: { ...common, supported: ['PCMU/8000', 'PCMA/8000'], offer: ['PCMA/8000'] },
};

describe('composePolicy, every method', () => {
  const base = new DefaultPolicy();

  it('an override that defers to the base gets the base\'s decision', async () => {
    const deferring = composePolicy(base, {
      shouldAnswer: (ctx, original) => original.shouldAnswer(ctx),
      canMakeCall: (ctx, original) => original.canMakeCall(ctx),
      selectDevices: (ctx, original) => original.selectDevices(ctx),
      sessionStatus: (ctx, original) => original.sessionStatus(ctx),
      ringingPlan: (ctx, original) => original.ringingPlan(ctx),
      codecPriorities: (ctx, original) => original.codecPriorities(ctx),
    });
    expect(await deferring.shouldAnswer(contexts.shouldAnswer)).toStrictEqual({ answer: true, delayMs: 0, reason: 'auto_answer is 1' });
    expect(await deferring.canMakeCall(contexts.canMakeCall)).toStrictEqual({ allowed: true });
    expect(await deferring.selectDevices(contexts.selectDevices)).toStrictEqual(base.selectDevices(contexts.selectDevices));
    expect(await deferring.sessionStatus(contexts.sessionStatus)).toBe('INITIALIZED');
    expect(await deferring.ringingPlan(contexts.ringingPlan)).toStrictEqual(base.ringingPlan(contexts.ringingPlan));
    expect((await deferring.codecPriorities(contexts.codecPriorities)).answer?.name).toBe('PCMA/8000');
  });

  it('an override given as undefined leaves the base\'s method', async () => {
    const policy = composePolicy(base, { shouldAnswer: undefined, canMakeCall: undefined });
    expect(await policy.shouldAnswer(contexts.shouldAnswer)).toStrictEqual({ answer: true, delayMs: 0, reason: 'auto_answer is 1' });
    expect(await policy.canMakeCall(contexts.canMakeCall)).toStrictEqual({ allowed: true });
  });

  it('shows the methods it overrides as its own (Object.keys, console.log), the others come from the base', () => {
    const policy = composePolicy(base, { ringingPlan: (ctx, original) => original.ringingPlan(ctx), selectDevices: undefined });
    expect(Object.keys(policy)).toEqual(['ringingPlan']);
    expect(Object.getPrototypeOf(policy)).toBe(base);
  });
});

describe('DefaultPolicy', () => {
  const policy = new DefaultPolicy();

  it('decides each method as the function of the same name', () => {
    expect(policy.sessionStatus(contexts.sessionStatus)).toBe(sessionStatus(contexts.sessionStatus));
    expect(policy.sessionStatus(contexts.sessionStatus)).toBe('INITIALIZED');
    expect(policy.ringingPlan(contexts.ringingPlan)).toStrictEqual(ringingPlan(contexts.ringingPlan));
    expect(policy.ringingPlan(contexts.ringingPlan).sound).toBe('ringtone');
    expect(policy.codecPriorities(contexts.codecPriorities)).toStrictEqual(codecPriorities(contexts.codecPriorities));
    expect(policy.codecPriorities(contexts.codecPriorities).answer?.name).toBe('PCMA/8000');
  });
});

