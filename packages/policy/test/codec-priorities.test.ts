import { codecPriorities } from '@sip-endpoint/policy';
import { config } from './support/context';

const engine = ['PCMU/8000', 'PCMA/8000', 'G722/16000', 'opus/48000/2', 'telephone-event/8000'];

function priorities(settings: Record<string, string | string[]>, offer?: string[], supported = engine) {
  return codecPriorities({ config: config(settings), devices: [], calls: [], supported, offer });
}

describe('codecPriorities', () => {
  it('offers the configured order, restricted to what the engine runs, and names the rest', () => {
    const result = priorities({ 'codecs.enabled.audio': 'iLBC,opus,G729,pcma,pcmu,telephone-event' });
    expect(result.offer.map((codec) => codec.name)).toEqual(['opus/48000/2', 'PCMA/8000', 'PCMU/8000', 'telephone-event/8000']);
    expect(result.unsupported).toEqual(['iLBC/8000', 'G729/8000']);
    expect(result.answer).toBeNull();
  });

  it('matches a redundancy format (red, ulpfec) by its encoding: it takes the protected codec\'s rate (libwebrtc runs red/48000/2 for opus); an audio codec still needs its rate', () => {
    const webrtc = ['opus/48000/2', 'ISAC/16000', 'ILBC/8000', 'G722/8000', 'PCMU/8000', 'red/48000/2', 'CN/8000'];
    const result = priorities({ 'codecs.enabled.audio': 'opus,red,ulpfec,isac/32000,pcmu' }, undefined, webrtc);
    expect(result.offer.map((codec) => codec.name)).toEqual(['opus/48000/2', 'red/8000', 'PCMU/8000']);
    expect(result.unsupported).toEqual(['ulpfec/8000', 'iSAC/32000']);
    // Never the chosen codec of an answer, though the offer has it first.
    expect(priorities({ 'codecs.enabled.audio': 'red,pcmu', 'session.answer_sdp_priority': 'remote' }, ['red/48000/2', 'PCMU/8000'], webrtc).answer?.name).toBe('PCMU/8000');
  });

  it('follows policy.codecs priorities too', () => {
    expect(priorities({ 'policy.codecs.PCMA/8000': '10', 'policy.codecs.G722/16000': '20' }).offer.map((codec) => codec.name)).toEqual(['G722/16000', 'PCMA/8000']);
  });

  it('answer_sdp_priority local picks our first codec that the offer has', () => {
    const result = priorities({ 'codecs.enabled.audio': 'opus,g722,pcmu' }, ['PCMU/8000', 'G722/8000', 'telephone-event/8000']);
    expect(result.answer?.name).toBe('G722/16000');
  });

  it('answer_sdp_priority remote picks the offer\'s first codec that we have', () => {
    const result = priorities({ 'codecs.enabled.audio': 'opus,g722,pcmu', 'session.answer_sdp_priority': 'remote' }, ['telephone-event/8000', 'PCMU/8000', 'G722/8000']);
    expect(result.answer?.name).toBe('PCMU/8000');
  });

  it('never picks telephone-event, nor a codec the engine cannot run', () => {
    expect(priorities({ 'codecs.enabled.audio': 'telephone-event,g729,pcmu' }, ['telephone-event/8000', 'G729/8000']).answer).toBeNull();
    expect(priorities({ 'codecs.enabled.audio': 'g729,pcmu', 'session.answer_sdp_priority': 'remote' }, ['G729/8000', 'PCMU/8000']).answer?.name).toBe('PCMU/8000');
  });

  it('returns null when the offer has nothing in common (the endpoint answers 488)', () => {
    expect(priorities({}, ['GSM/8000']).answer).toBeNull();
  });

  it.each(['local', 'remote'])('keeps, offers and can choose a codec the catalogue does not know, spelled in any case and spacing (answer_sdp_priority %s)', (priority) => {
    const result = priorities({ 'codecs.enabled.audio': 'AMR-WB/16000,pcmu', 'session.answer_sdp_priority': priority }, [' amr-wb/16000', 'PCMU/8000'], [...engine, 'AMR-WB/16000 ']);
    expect(result.offer.map((codec) => codec.name)).toEqual(['AMR-WB/16000', 'PCMU/8000']);
    expect(result.unsupported).toEqual([]);
    expect(result.answer?.name).toBe('AMR-WB/16000');
  });
});

