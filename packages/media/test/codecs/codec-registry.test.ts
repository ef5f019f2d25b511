import { CodecRegistry, codecs, G722, OPUS, PCMA, PCMU, type Codec } from '@sip-endpoint/media';

/** A codec the configuration's catalogue does not know. */
const custom: Codec = { ...PCMU, name: 'X-Custom/8000', encoding: 'X-Custom', staticPayloadType: undefined };

describe('codecs, the registry of what this package implements', () => {
  it('lists PCMU, PCMA, G.722 and opus in that order, and names them with telephone-event', () => {
    const list = codecs.list();
    expect(list).toHaveLength(4);
    [PCMU, PCMA, G722, OPUS].forEach((codec, i) => expect(list[i]).toBe(codec));
    expect(codecs.names()).toEqual(['PCMU/8000', 'PCMA/8000', 'G722/16000', 'opus/48000/2', 'telephone-event/8000']);
  });

  it.each<[string, Codec]>([
    ['PCMU/8000', PCMU],
    ['pcmu', PCMU],
    [' PCMU ', PCMU],
    ['G711U', PCMU],
    ['ulaw', PCMU],
    ['PCMA/8000', PCMA],
    ['pcma/8000', PCMA],
    ['alaw', PCMA],
    ['G722/16000', G722],
    ['G722/8000', G722], // as SDP writes it (RFC 3551's clock rate)
    ['g722', G722],
    ['opus/48000/2', OPUS],
    ['OPUS', OPUS],
    ['opus/48000', OPUS],
  ])('finds %j', (name, codec) => {
    expect(codecs.get(name)).toBe(codec);
  });

  it.each([
    'G729/8000', // the configuration knows it; this package does not implement it
    'telephone-event/8000', // handled by the stream, not a codec
    'PCMU/16000',
    'speex',
    '',
  ])('finds nothing for %j', (name) => {
    expect(codecs.get(name)).toBeUndefined();
  });
});

describe('CodecRegistry', () => {
  it('starts empty: no codec, and telephone-event alone among the names', () => {
    const registry = new CodecRegistry();
    expect(registry.list()).toEqual([]);
    expect(registry.names()).toEqual(['telephone-event/8000']);
    expect(registry.get('pcmu')).toBeUndefined();
  });

  it('finds a codec the configuration does not know by its name, in any case and with spaces around', () => {
    const registry = new CodecRegistry([PCMU, custom]);
    expect(registry.get('X-Custom/8000')).toBe(custom);
    expect(registry.get('x-custom/8000')).toBe(custom);
    expect(registry.get(' X-CUSTOM/8000 ')).toBe(custom);
    expect(registry.get('X-Custom')).toBeUndefined();
    expect(registry.names()).toEqual(['PCMU/8000', 'X-Custom/8000', 'telephone-event/8000']);
  });

  it('register() adds a codec, and replaces one of the same name in any case where it stood', () => {
    const registry = new CodecRegistry([PCMU, PCMA]);
    registry.register(custom);
    const otherPcmu: Codec = { ...PCMU, name: 'pcmu/8000' };
    registry.register(otherPcmu);
    const list = registry.list();
    expect(list).toHaveLength(3);
    [otherPcmu, PCMA, custom].forEach((codec, i) => expect(list[i]).toBe(codec));
    expect(registry.get('PCMU')).toBe(otherPcmu);
  });
});
