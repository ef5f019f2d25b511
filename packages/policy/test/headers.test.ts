import { autoAnswerRequest, headerParameters, headerValues, type HeaderBag } from '@sip-endpoint/policy';

describe('headerValues', () => {
  const headers: HeaderBag = {
    f: '"Smith, John" <sip:1@a>',
    To: '<sip:2@a>',
    'X-Repeated': ['one', 'two, three'],
    'X-Absent': undefined,
    'X-Spaced': ' a , b ,c ',
    'X-Empty-Items': ', a,, b,',
    'X-Stray': 'a>b, c',
    'X-Nested': '<sip:x;p=<y>,z>, <sip:w>',
    'X-Quoted': '"a, <b" , c',
  };

  it.each([
    ['From', ['"Smith, John" <sip:1@a>']],
    ['f', ['"Smith, John" <sip:1@a>']],
    ['to', ['<sip:2@a>']],
    ['x-repeated', ['one', 'two', 'three']],
    ['X-Absent', []],
    ['X-Spaced', ['a', 'b', 'c']],
    ['X-Empty-Items', ['a', 'b']],
    ['X-Stray', ['a>b', 'c']],
    ['X-Nested', ['<sip:x;p=<y>,z>', '<sip:w>']],
    ['X-Quoted', ['"a, <b"', 'c']],
    ['Contact', []],
  ])('%s: %j', (name, expected) => {
    expect(headerValues(headers, name)).toStrictEqual(expected);
  });

  it('only f is read as From: a compact name of another header is not', () => {
    expect(headerValues({ f: 'x', t: 'y', To: 'z' }, 'To')).toStrictEqual(['z']);
  });
});

describe('headerParameters', () => {
  it.each([
    ['<sip:a@b;lr>;info=alert-autoanswer;answer-after=3', { info: 'alert-autoanswer', 'answer-after': '3' }],
    ['"Bob" <sip:b@c>;Tag = 1 ; lr', { tag: '1', lr: '' }],
    ['<sip:a>; ;x=1;', { x: '1' }],
    ['sip:a@b;info=x', { info: 'x' }],
    ['http://www.example.com/ring.wav', {}],
    ['info = alert-autoanswer;answer-after=2', { info: 'alert-autoanswer', 'answer-after': '2' }],
    ['lr;info=x', { lr: '', info: 'x' }],
    ['<a>;q="x";empty="";one=";open="x;close=x"', { q: 'x', empty: '', one: '";open="x', close: 'x"' }],
    // Quoted values and display names may hold '>', ';' and escaped quotes.
    ['<sip:a@b>;info="a>b";answer-after=3', { info: 'a>b', 'answer-after': '3' }],
    ['"Bob <boss>" <sip:b@c>;info=alert-autoanswer', { info: 'alert-autoanswer' }],
    ['"a>b;c" <sip:b@c>;x=1', { x: '1' }],
    ['<sip:a>;purpose="a;b";note="say \\"hi\\""', { purpose: 'a;b', note: 'say "hi"' }],
    // Boundaries: after a '>', every part is a parameter, the text before the first ';' too; a
    // part without a name before its '=' is kept under ''; a '>' that closes no '<' is text.
    ['<sip:a> x y;z=1', { 'x y': '', z: '1' }],
    ['> x y;z=1', { z: '1' }],
    ['<sip:a>;=1', { '': '1' }],
    // The URI ends at the first '>' (later ones are text); a ';' inside it is not a parameter.
    ['<sip:a>;x=1>y', { x: '1>y' }],
    ['"Bob" <sip:b@c;lr>;x=1', { x: '1' }],
    // An escaped quote does not end a quoted display name or value.
    ['"a\\"<b>" <sip:x>;y=1', { y: '1' }],
    ['<sip:a>;note="a\\";b";x=1', { note: 'a";b', x: '1' }],
    // A lone '"' is a value, not an empty quoted string.
    ['<a>;q="', { q: '"' }],
  ])('%s: %j', (value, expected) => {
    expect(Object.fromEntries(headerParameters(value))).toStrictEqual(expected);
  });
});

describe('autoAnswerRequest', () => {
  const none = { requested: false, answerAfterSeconds: undefined, source: undefined };

  it.each([
    ['10', 10],
    ['0', 0],
    ['1.25', 1.25],
    ['007', 7],
  ])('answer-after=%s is %p seconds', (after, seconds) => {
    const value = `<sip:a>;answer-after=${after}`;
    expect(autoAnswerRequest({ 'Call-Info': value })).toStrictEqual({ requested: true, answerAfterSeconds: seconds, source: `Call-Info: ${value}` });
  });

  it.each(['5s', '-5', '1e3', '1.', '.5', '', 'soon'])('answer-after=%p is not a number of seconds: nothing is asked', (after) => {
    expect(autoAnswerRequest({ 'Call-Info': `<sip:a>;answer-after=${after}` })).toStrictEqual(none);
  });

  it.each([
    [
      'the first answer-after, Alert-Info before Call-Info',
      { 'Call-Info': '<sip:b>;answer-after=5', 'Alert-Info': '<sip:a>;answer-after=3' },
      { requested: true, answerAfterSeconds: 3, source: 'Alert-Info: <sip:a>;answer-after=3' },
    ],
    [
      'the first answer-after, not undone by a later value without one',
      { 'Alert-Info': ['<sip:a>;answer-after=3', '<sip:b>;info=alert-autoanswer'] },
      { requested: true, answerAfterSeconds: 3, source: 'Alert-Info: <sip:a>;answer-after=3' },
    ],
    [
      'the first header that asks as source, a later one\'s answer-after',
      { 'Alert-Info': '<sip:a>;info=auto-answer', 'Call-Info': '<sip:b>;answer-after=4' },
      { requested: true, answerAfterSeconds: 4, source: 'Alert-Info: <sip:a>;info=auto-answer' },
    ],
    ['nothing from info on Call-Info', { 'Call-Info': '<sip:b>;info=alert-autoanswer' }, none],
  ])('takes %s', (_name, headers, expected) => {
    expect(autoAnswerRequest(headers)).toStrictEqual(expected);
  });
});
