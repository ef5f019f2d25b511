import { buildCodecList, DEFAULT_CODECS, type CodecSources } from '../src/codec-list';
import type { ConfigWarning } from '../src/errors';

// The ordered codec list from either layout, with every warning exactly.

function build(sources: Partial<CodecSources>): { list: ReturnType<typeof buildCodecList>; warnings: ConfigWarning[] } {
  const warnings: ConfigWarning[] = [];
  const list = buildCodecList({ enabledAudio: undefined, enabledVideo: undefined, priorities: [], parameters: [], ...sources }, warnings);
  return { list, warnings };
}

describe('buildCodecList', () => {
  it('without either layout: the default list, its parameters applied', () => {
    const { list, warnings } = build({ parameters: [{ name: ' pcma ', payloadType: 98, fmtp: '' }, { name: 'opus', payloadType: 111, fmtp: 'useinbandfec=1' }] });
    expect(warnings).toEqual([]);
    expect(list.map((c) => [c.name, c.payloadType, c.fmtp, c.priority])).toEqual([
      ['PCMU/8000', undefined, '', undefined],
      ['PCMA/8000', 98, '', undefined],
      ['G722/16000', undefined, '', undefined],
      ['opus/48000/2', 111, 'useinbandfec=1', undefined],
    ]);
    expect(list.map((c) => c.name)).toEqual(DEFAULT_CODECS);
    expect(list.every((c) => c.codec !== undefined)).toBe(true);
  });

  it('codecs.enabled.audio wins over policy.codecs, which is noted', () => {
    const { list, warnings } = build({
      enabledAudio: { names: [' g722 ', 'PCMU'], line: 4 },
      priorities: [{ name: 'pcma', priority: 10, line: 9 }, { name: 'opus', priority: 5, line: 10 }],
    });
    expect(list.map((c) => [c.name, c.priority])).toEqual([['G722/16000', undefined], ['PCMU/8000', undefined]]);
    expect(warnings).toEqual([{ kind: 'ignored', key: 'policy.codecs', given: 'pcma=10,opus=5', used: undefined, line: 9, message: 'policy.codecs is ignored because codecs.enabled.audio is set' }]);
  });

  it('policy.codecs: higher priority first', () => {
    const { list, warnings } = build({ priorities: [{ name: 'pcma', priority: 3, line: 1 }, { name: 'g722', priority: 100, line: 2 }, { name: 'pcmu', priority: 50, line: 3 }] });
    expect(warnings).toEqual([]);
    expect(list.map((c) => [c.name, c.priority])).toEqual([['G722/16000', 100], ['PCMU/8000', 50], ['PCMA/8000', 3]]);
  });

  it('refuses two codecs of one priority, naming both', () => {
    expect(() => build({ priorities: [{ name: 'pcma', priority: 7, line: 1 }, { name: 'pcmu', priority: 7, line: 2 }] })).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_DUPLICATE_CODEC_PRIORITY', key: 'policy.codecs.pcmu', line: 2, message: 'codecs pcma and pcmu both have priority 7; priorities must be unique (setting policy.codecs.pcmu, line 2)' }),
    );
  });

  it('notes video codecs, repeats and unknown names, with the key and line they came from', () => {
    const { list, warnings } = build({ enabledAudio: { names: ['pcmu', 'H264', 'PCMU/8000', ' x-codec '], line: 6 }, enabledVideo: ['h264', 'vp8'] });
    expect(list.map((c) => [c.name, c.codec === undefined])).toEqual([['PCMU/8000', false], ['x-codec', true]]);
    expect(warnings).toEqual([
      { kind: 'ignored', key: 'codecs.enabled.video', given: 'h264,vp8', used: undefined, line: undefined, message: 'video codecs are ignored: this SDK carries audio only' },
      { kind: 'ignored', key: 'codecs.enabled.audio', given: 'H264', used: undefined, line: 6, message: 'video codec H264/90000 is ignored: this SDK carries audio only' },
      { kind: 'ignored', key: 'codecs.enabled.audio', given: 'PCMU/8000', used: undefined, line: 6, message: 'codec PCMU/8000 is listed twice; the later entry is ignored' },
      { kind: 'unknown-setting', key: 'codecs.enabled.audio', given: ' x-codec ', used: ' x-codec ', line: 6, message: 'codec " x-codec " is not known to this SDK; it is kept in the list for the media engine to judge' },
    ]);
    expect(build({ enabledVideo: [] }).warnings).toEqual([]);
  });

  it('policy.codecs entries name their own key', () => {
    const { warnings } = build({ priorities: [{ name: 'x-codec', priority: 2, line: 12 }] });
    expect(warnings).toEqual([{ kind: 'unknown-setting', key: 'policy.codecs.x-codec', given: 'x-codec', used: 'x-codec', line: 12, message: 'codec "x-codec" is not known to this SDK; it is kept in the list for the media engine to judge' }]);
  });
});

describe('buildCodecList: an unknown codec', () => {
  it('an unknown codec keeps its own section parameters (names trimmed on both sides)', () => {
    const { list } = build({ enabledAudio: { names: [' X-Voice/8000 '], line: 3 }, parameters: [{ name: ' x-voice/8000 ', payloadType: 97, fmtp: 'mode=30' }] });
    expect(list).toEqual([{ name: 'X-Voice/8000', codec: undefined, payloadType: 97, fmtp: 'mode=30', priority: undefined }]);
  });
});
