import { autoAnswerRequest, canMakeCall, DefaultPolicy, headerValues, shouldAnswer } from '@sip-endpoint/policy';
import { answerContext, builtIn, call, config, jabra, mic, speaker } from './support/context';

describe('auto-answer requested by the INVITE', () => {
  const cfg = config();

  it.each([
    [{ 'Alert-Info': '<http://www.notused.com>;info=alert-autoanswer' }, 0],
    [{ 'alert-info': '<sip:x>; info=auto-answer' }, 0],
    [{ 'ALERT-INFO': 'info=alert-autoanswer' }, 0],
    [{ 'Alert-Info': '<http://x>;info=alert-autoanswer;answer-after=3' }, 3000],
    [{ 'Call-Info': '<sip:127.0.0.1>;answer-after=0' }, 0],
    [{ 'Call-Info': '<sip:127.0.0.1>;answer-after=5' }, 5000],
    [{ 'Alert-Info': '<http://x>;answer-after=2' }, 2000],
    [{ 'Alert-Info': ['<http://ring>', '<http://x>;info=alert-autoanswer'] }, 0],
    [{ 'Alert-Info': '<http://ring>, <http://x>;info="alert-autoanswer"' }, 0],
  ])('%j answers after %i ms', (headers, delayMs) => {
    expect(shouldAnswer(answerContext({ config: cfg, devices: builtIn, headers }))).toMatchObject({ answer: true, delayMs });
  });

  it.each([
    [{}],
    [{ 'Alert-Info': '<http://www.example.com/ring.wav>' }],
    [{ 'Alert-Info': '<http://x>;info=ring2' }],
    [{ 'Call-Info': '<http://x>;info=alert-autoanswer' }],
    [{ 'Call-Info': '<http://x>;answer-after=soon' }],
  ])('%j lets the call ring', (headers) => {
    expect(shouldAnswer(answerContext({ config: cfg, devices: builtIn, headers })).answer).toBe('unknown');
  });

  it('uses auto_answer_delay when the request gives no answer-after, and answer-after when it does', () => {
    const delayed = config({ 'session.auto_answer': '1', 'session.auto_answer_delay': '4' });
    expect(shouldAnswer(answerContext({ config: delayed, devices: builtIn }))).toMatchObject({ answer: true, delayMs: 4000 });
    expect(shouldAnswer(answerContext({ config: delayed, devices: builtIn, headers: { 'Call-Info': '<sip:a>;answer-after=1' } }))).toMatchObject({ delayMs: 1000 });
    expect(shouldAnswer(answerContext({ config: delayed, devices: builtIn, headers: { 'Alert-Info': '<a>;info=alert-autoanswer' } }))).toMatchObject({ delayMs: 4000 });
  });

  it('is subject to the same device rules: blocked when the headset is required and absent', () => {
    const headset = config({ 'device.use_headset': '1', 'device.headset_name': 'Jabra' });
    const headers = { 'Alert-Info': '<a>;info=alert-autoanswer' };
    expect(shouldAnswer(answerContext({ config: headset, devices: builtIn, headers })).answer).toBe('unknown');
    expect(shouldAnswer(answerContext({ config: headset, devices: [...builtIn, ...jabra], headers })).answer).toBe(true);
  });
});

describe('busy', () => {
  const busy = config({ 'session.reject_session_when_busy': '1', 'session.number_sessions_for_busy': '2', 'session.auto_answer': '1' });

  it('rejects with sip_code_when_busy (486 by default) from number_sessions_for_busy calls, held ones included', () => {
    expect(shouldAnswer(answerContext({ config: busy, devices: builtIn, calls: [call('CONNECTED')] })).answer).toBe(true);
    expect(shouldAnswer(answerContext({ config: busy, devices: builtIn, calls: [call('CONNECTED'), call('HELD')] }))).toMatchObject({ answer: false, sipCode: 486 });
  });

  it('uses the configured code, falling back to 486 outside 400..699', () => {
    const code = (value: string) => config({ 'session.reject_session_when_busy': '1', 'session.sip_code_when_busy': value });
    expect(shouldAnswer(answerContext({ config: code('600'), devices: builtIn, calls: [call('HELD')] }))).toMatchObject({ sipCode: 600 });
    expect(shouldAnswer(answerContext({ config: code('99'), devices: builtIn, calls: [call('HELD')] }))).toMatchObject({ sipCode: 486 });
  });

  it('does nothing when reject_session_when_busy is 0', () => {
    expect(shouldAnswer(answerContext({ config: config(), devices: builtIn, calls: [call('CONNECTED'), call('CONNECTED')] })).answer).toBe('unknown');
  });

  it('the headset rejection comes first', () => {
    const both = config({ 'device.use_headset': '1', 'device.headset_name': 'Jabra', 'session.reject_session_when_headset_na': '1', 'session.sip_code_when_headset_na': '488', 'session.reject_session_when_busy': '1' });
    expect(shouldAnswer(answerContext({ config: both, devices: builtIn, calls: [call('CONNECTED')] }))).toMatchObject({ sipCode: 488 });
  });
});

describe('headers', () => {
  it('headerValues ignores case, knows the compact form of From, and splits lists outside quotes and brackets', () => {
    const headers = { f: '"Smith, John" <sip:1@a>', 'X-Genesys-CallUUID': 'ABC', 'call-info': '<sip:a,b>;answer-after=1, <sip:c>' };
    expect(headerValues(headers, 'From')).toEqual(['"Smith, John" <sip:1@a>']);
    expect(headerValues(headers, 'x-genesys-calluuid')).toEqual(['ABC']);
    expect(headerValues(headers, 'Call-Info')).toEqual(['<sip:a,b>;answer-after=1', '<sip:c>']);
  });

  it('autoAnswerRequest names the header that asked', () => {
    expect(autoAnswerRequest({ 'Call-Info': '<sip:a>;answer-after=7' })).toEqual({ requested: true, answerAfterSeconds: 7, source: 'Call-Info: <sip:a>;answer-after=7' });
  });
});

describe('DefaultPolicy', () => {
  it('answers synchronously', () => {
    const decision = new DefaultPolicy().shouldAnswer(answerContext({ config: config({ 'session.auto_answer': '1' }), devices: builtIn }));
    expect(decision).toMatchObject({ answer: true, delayMs: 0 });
  });
});

describe('the decisions with their reasons', () => {
  const headsetRequired = { 'device.use_headset': '1', 'device.headset_name': 'Jabra' };
  const asking = { 'Alert-Info': '<http://x>;info=alert-autoanswer;answer-after=3' };
  const noHeadset = 'use_headset and reject_session_when_headset_na are 1 and no headset is present';

  it.each([
    ['no headset, rejection on', { ...headsetRequired, 'session.reject_session_when_headset_na': '1' }, builtIn, 0, {}, { answer: false, sipCode: 480, reason: noHeadset }],
    ['busy', { 'session.reject_session_when_busy': '1', 'session.number_sessions_for_busy': '2' }, builtIn, 2, {}, { answer: false, sipCode: 486, reason: '2 call(s) in progress; busy from 2' }],
    ['nothing asks', {}, builtIn, 0, {}, { answer: 'unknown', reason: 'auto_answer is 0 and the request does not ask for an automatic answer' }],
    ['no headset', { ...headsetRequired, 'session.auto_answer': '1' }, builtIn, 0, {}, { answer: 'unknown', reason: 'auto-answer is blocked: use_headset is 1 and no headset is present' }],
    ['no speaker', { 'session.auto_answer': '1' }, [mic('Mic')], 0, {}, { answer: 'unknown', reason: 'auto-answer is blocked: no usable speaker is present' }],
    ['no microphone', { 'session.auto_answer': '1' }, [speaker('Speaker')], 0, {}, { answer: 'unknown', reason: 'auto-answer is blocked: no usable microphone is present' }],
    ['no device', { 'session.auto_answer': '1' }, [], 0, {}, { answer: 'unknown', reason: 'auto-answer is blocked: no usable microphone is present' }],
    ['auto_answer 1', { 'session.auto_answer': '1' }, builtIn, 0, {}, { answer: true, delayMs: 0, reason: 'auto_answer is 1' }],
    ['the request asks', {}, builtIn, 0, asking, { answer: true, delayMs: 3000, reason: `the request asks for it (Alert-Info: ${asking['Alert-Info']})` }],
    ['both ask', { 'session.auto_answer': '1' }, builtIn, 0, asking, { answer: true, delayMs: 3000, reason: `the request asks for it (Alert-Info: ${asking['Alert-Info']})` }],
  ])('%s', (_name, settings, devices, others, headers, expected) => {
    const calls = Array.from({ length: others }, () => call('CONNECTED'));
    expect(shouldAnswer(answerContext({ config: config(settings), devices, calls, headers }))).toStrictEqual(expected);
  });

  it('an IM session: no headset or device rule, and busy counts IM sessions only', () => {
    const im = (settings: Record<string, string>, devices: typeof builtIn, calls: ReturnType<typeof call>[]) => shouldAnswer(answerContext({ config: config(settings), devices, calls, kind: 'im' }));
    // No headset, no device at all: an IM session is still answered as auto_answer says.
    expect(im({ ...headsetRequired, 'session.reject_session_when_headset_na': '1', 'session.auto_answer': '1' }, [], [])).toStrictEqual({ answer: true, delayMs: 0, reason: 'auto_answer is 1' });
    const busy = { 'session.reject_session_when_busy': '1', 'session.number_sessions_for_busy': '1' };
    // A voice call does not make the agent busy for a chat; another chat does.
    expect(im(busy, builtIn, [call('CONNECTED')]).answer).toBe('unknown');
    expect(im(busy, builtIn, [{ ...call('CONNECTED'), kind: 'im' }])).toStrictEqual({ answer: false, sipCode: 486, reason: '1 IM session(s) in progress; busy from 1' });
    // And a chat does not make the agent busy for a voice call.
    expect(shouldAnswer(answerContext({ config: config(busy), devices: builtIn, calls: [{ ...call('CONNECTED'), kind: 'im' }] })).answer).toBe('unknown');
  });

  it('canMakeCall refuses with the reason of the headset rejection, and allows otherwise', () => {
    const outgoing = (settings: Record<string, string>) => canMakeCall({ config: config(settings), devices: builtIn, calls: [], destination: '5000', line: 0 });
    expect(outgoing({ ...headsetRequired, 'session.reject_session_when_headset_na': '1' })).toStrictEqual({ allowed: false, reason: noHeadset });
    expect(outgoing(headsetRequired)).toStrictEqual({ allowed: true });
  });
});

