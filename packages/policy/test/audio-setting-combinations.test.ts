import { DefaultPolicy, type AudioDevice } from '@sip-endpoint/policy';
import { answerContext, builtIn, config, jabra, mic, speaker } from './support/context';

const policy = new DefaultPolicy();

async function decide(settings: Record<string, string | string[]>, devices: AudioDevice[]) {
  const cfg = config(settings);
  const answer = await policy.shouldAnswer(answerContext({ config: cfg, devices }));
  const outgoing = await policy.canMakeCall({ config: cfg, devices, calls: [], destination: '5000', line: 0 });
  return { answer, outgoing };
}

// The specification's "Audio setting combinations", use_headset = 1, row by row.
describe('use_headset = 1', () => {
  const headset = { 'device.use_headset': '1', 'device.headset_name': 'Jabra' };

  it.each([
    ['available', '0', '1', true],
    ['available', '0', '0', 'unknown'],
    ['available', '1', '1', true],
    ['available', '1', '0', 'unknown'],
  ] as const)('headset %s, reject_session_when_headset_na %s, auto_answer %s: answer is %p and outgoing calls are allowed', async (_h, reject, auto, expected) => {
    const { answer, outgoing } = await decide({ ...headset, 'session.reject_session_when_headset_na': reject, 'session.auto_answer': auto }, [...builtIn, ...jabra]);
    expect(answer.answer).toBe(expected);
    expect(outgoing).toEqual({ allowed: true });
  });

  it.each(['0', '1'])('headset not available, reject_session_when_headset_na 1, auto_answer %s: incoming rejected with 480, outgoing blocked', async (auto) => {
    const { answer, outgoing } = await decide({ ...headset, 'session.reject_session_when_headset_na': '1', 'session.auto_answer': auto }, builtIn);
    expect(answer).toMatchObject({ answer: false, sipCode: 480 });
    expect(outgoing).toMatchObject({ allowed: false });
  });

  it.each(['0', '1'])('headset not available, reject_session_when_headset_na 0, auto_answer %s: manual answer only, outgoing allowed', async (auto) => {
    const { answer, outgoing } = await decide({ ...headset, 'session.reject_session_when_headset_na': '0', 'session.auto_answer': auto }, builtIn);
    expect(answer.answer).toBe('unknown');
    expect(outgoing).toEqual({ allowed: true });
  });

  it('a fallback device does not prevent rejection, and the fallback devices are still assigned', async () => {
    const cfg = config({ ...headset, 'session.reject_session_when_headset_na': '1' });
    const selection = await policy.selectDevices({ config: cfg, devices: builtIn, calls: [] });
    expect(selection).toMatchObject({ input: builtIn[0], output: builtIn[1], headsetAvailable: false });
    expect((await policy.shouldAnswer(answerContext({ config: cfg, devices: builtIn }))).answer).toBe(false);
  });

  it('rejects with no device at all', async () => {
    expect((await decide({ ...headset, 'session.reject_session_when_headset_na': '1' }, [])).answer).toMatchObject({ answer: false, sipCode: 480 });
  });

  it.each([
    ['486', 486],
    ['600', 600],
    ['399', 480],
    ['700', 480],
    ['busy', 480],
  ])('rejects with sip_code_when_headset_na %s as %i', async (code, expected) => {
    const { answer } = await decide({ ...headset, 'session.reject_session_when_headset_na': '1', 'session.sip_code_when_headset_na': code }, builtIn);
    expect(answer).toMatchObject({ answer: false, sipCode: expected });
  });
});

// The specification's "Audio setting combinations", use_headset = 0, row by row.
describe('use_headset = 0', () => {
  const both = [mic('Mic'), speaker('Speaker')];

  it.each([
    ['1', true],
    ['0', 'unknown'],
  ] as const)('microphone and speaker available, auto_answer %s: answer is %p; outgoing allowed', async (auto, expected) => {
    const { answer, outgoing } = await decide({ 'session.auto_answer': auto }, both);
    expect(answer.answer).toBe(expected);
    expect(outgoing).toEqual({ allowed: true });
  });

  it.each([
    ['no speaker', [mic('Mic')]],
    ['no microphone', [speaker('Speaker')]],
    ['no device', []],
  ])('%s, auto_answer 1: manual answer only; outgoing allowed', async (_name, devices) => {
    const { answer, outgoing } = await decide({ 'session.auto_answer': '1' }, devices);
    expect(answer).toMatchObject({ answer: 'unknown', reason: expect.stringContaining('blocked') });
    expect(outgoing).toEqual({ allowed: true });
  });

  it('never rejects for want of a headset: reject_session_when_headset_na is not used', async () => {
    const { answer, outgoing } = await decide({ 'session.auto_answer': '1', 'session.reject_session_when_headset_na': '1' }, [mic('Mic')]);
    expect(answer.answer).toBe('unknown');
    expect(outgoing).toEqual({ allowed: true });
  });

  it('configured devices that are absent fall back to the first ones, and auto-answer still works', async () => {
    const { answer } = await decide({ 'session.auto_answer': '1', 'device.audio_in_device': 'Nope', 'device.audio_out_device': 'Nope' }, both);
    expect(answer.answer).toBe(true);
  });
});
