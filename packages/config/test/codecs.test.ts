import { ConfigError, DEFAULT_CODECS, lookupCodec, parseConfig } from '@sip-endpoint/config';
import { configXml } from './support/xml';

describe('the codec list', () => {
  it('is the default list when the file names no codec', () => {
    expect(parseConfig(configXml({})).codecs.map((codec) => codec.name)).toEqual([...DEFAULT_CODECS]);
  });

  it('orders policy.codecs by priority, higher first, whatever the file order', () => {
    const config = parseConfig(configXml({ policy: { codecs: { 'PCMA/8000': '3', 'opus/48000/2': '100', 'PCMU/8000': '50' } } }));
    expect(config.codecs.map((codec) => codec.name)).toEqual(['opus/48000/2', 'PCMU/8000', 'PCMA/8000']);
  });

  it('drops a codec with an invalid priority, with a warning', () => {
    const config = parseConfig(configXml({ policy: { codecs: { 'PCMA/8000': '128', 'PCMU/8000': 'high', 'G722/16000': '5' } } }));
    expect(config.codecs.map((codec) => codec.name)).toEqual(['G722/16000']);
    expect(config.warnings.map((w) => w.key)).toEqual(['policy.codecs.PCMA/8000', 'policy.codecs.PCMU/8000']);
  });

  it('refuses two codecs with one priority, naming the line', () => {
    let caught: unknown;
    try {
      parseConfig(configXml({ policy: { codecs: { 'PCMA/8000': '3', 'PCMU/8000': '3' } } }));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(caught).toMatchObject({ code: 'ERR_CONFIG_DUPLICATE_CODEC_PRIORITY', key: 'policy.codecs.PCMU/8000' });
    expect((caught as ConfigError).line).toBeGreaterThan(0);
  });

  it('prefers codecs.enabled.audio over policy.codecs and says policy.codecs is ignored', () => {
    const config = parseConfig(configXml({ policy: { codecs: { 'PCMU/8000': '9' } }, codecs: { enabled: { audio: 'PCMA, g722' } } }));
    expect(config.codecs.map((codec) => codec.name)).toEqual(['PCMA/8000', 'G722/16000']);
    expect(config.warnings).toEqual([expect.objectContaining({ kind: 'ignored', key: 'policy.codecs' })]);
  });

  it('matches per-codec sections by any spelling', () => {
    const config = parseConfig(configXml({ codecs: { enabled: { audio: 'OPUS/48000/2,pcmu' }, opus: { payload_type: '120', fmtp: 'stereo=0' }, PCMU: { payload_type: '0' } } }));
    expect(config.codecs.map((codec) => [codec.name, codec.payloadType, codec.fmtp])).toEqual([
      ['opus/48000/2', 120, 'stereo=0'],
      ['PCMU/8000', 0, ''],
    ]);
  });

  it('keeps an unknown codec name with a warning, leaves video out, and drops repeats', () => {
    const config = parseConfig(configXml({ codecs: { enabled: { audio: 'pcmu,AMR-WB/16000,h264,PCMU/8000', video: 'vp8' } } }));
    expect(config.codecs.map((codec) => [codec.name, codec.codec?.kind])).toEqual([
      ['PCMU/8000', 'audio'],
      ['AMR-WB/16000', undefined],
    ]);
    expect(config.warnings.map((w) => w.kind)).toEqual(['ignored', 'unknown-setting', 'ignored', 'ignored']);
  });

  it('an invalid payload type falls back to "not set"', () => {
    const config = parseConfig(configXml({ codecs: { enabled: { audio: 'opus' }, opus: { payload_type: '200' } } }));
    expect(config.codecs[0]?.payloadType).toBeUndefined();
    expect(config.warnings[0]).toMatchObject({ kind: 'fallback', key: 'codecs.opus.payload_type' });
  });
});

describe('lookupCodec', () => {
  it.each([
    ['pcmu', 'PCMU/8000', 8000, 0],
    ['PCMA/8000', 'PCMA/8000', 8000, 8],
    ['G722', 'G722/16000', 8000, 9],
    ['opus', 'opus/48000/2', 48000, undefined],
    ['telephone-event', 'telephone-event/8000', 8000, undefined],
    ['ISAC/32000', 'iSAC/32000', 32000, undefined],
  ])('%s is %s with RTP clock %i', (spelling, name, clock, payloadType) => {
    const codec = lookupCodec(spelling);
    expect(codec).toMatchObject({ name, rtpClockRate: clock });
    expect(codec?.staticPayloadType).toBe(payloadType);
  });

  it('returns undefined for an unknown name', () => {
    expect(lookupCodec('speex')).toBeUndefined();
  });
});
