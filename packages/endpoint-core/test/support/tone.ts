/** The frequency with the most power in 50..4000 Hz, by a coarse then fine Goertzel scan. */
export function dominantFrequency(samples: Int16Array, sampleRate: number): number {
  const power = (signal: Int16Array, f: number): number => {
    const k = 2 * Math.cos((2 * Math.PI * f) / sampleRate);
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < signal.length; i++) {
      const s0 = signal[i]! + k * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    return s1 * s1 + s2 * s2 - k * s1 * s2;
  };
  const scan = (signal: Int16Array, from: number, to: number, step: number): number => {
    let best = from;
    let bestPower = -1;
    for (let f = from; f <= to; f += step) {
      const p = power(signal, f);
      if (p > bestPower) {
        bestPower = p;
        best = f;
      }
    }
    return best;
  };
  const coarse = scan(samples.subarray(0, Math.round(sampleRate * 0.05)), 50, Math.min(4000, sampleRate / 2 - 50), 20);
  return scan(samples, Math.max(50, coarse - 20), coarse + 20, 1);
}

export function concat(chunks: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
