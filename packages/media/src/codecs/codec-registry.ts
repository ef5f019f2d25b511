import { lookupCodec } from '@sip-endpoint/config';
import type { Codec } from './codec';
import { PCMA, PCMU } from './g711';
import { G722 } from './g722';
import { OPUS } from './opus';

/**
 * The codecs a media engine can run, found by any spelling of their name.
 *
 * @public
 */
export class CodecRegistry {
  readonly #codecs = new Map<string, Codec>();

  constructor(codecs: readonly Codec[] = []) {
    for (const codec of codecs) this.register(codec);
  }

  /** Adds (or replaces) a codec. */
  register(codec: Codec): void {
    this.#codecs.set(codec.name.toLowerCase(), codec);
  }

  /** The codec of a name (`PCMU/8000`, `pcmu`, `G722/8000` as SDP writes it, `opus`), or `undefined`. */
  get(name: string): Codec | undefined {
    const canonical = lookupCodec(name)?.name ?? name.trim();
    return this.#codecs.get(canonical.toLowerCase());
  }

  /** Every codec, in registration order. */
  list(): Codec[] {
    return [...this.#codecs.values()];
  }

  /** Names of every codec, plus telephone-event (which the engine always handles), for the policy's `supported`. */
  names(): string[] {
    return [...this.list().map((codec) => codec.name), 'telephone-event/8000'];
  }
}

/** The codecs this package implements: PCMU, PCMA, G.722 and opus. @public */
export const codecs = new CodecRegistry([PCMU, PCMA, G722, OPUS]);
