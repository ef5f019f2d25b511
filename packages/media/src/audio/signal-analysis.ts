/**
 * Measurements of audio for tests and diagnostics: the power at one frequency, the dominant
 * frequency, the SNR against the best-fitting sine, the RMS level.
 */

/**
 * Power of `samples` at frequency `f`: one DFT bin by the Goertzel recurrence (no trigonometry per
 * sample), normalised by the length.
 *
 * @public
 */
export function powerAt(samples: Int16Array, sampleRate: number, f: number): number {
  const coefficient = 2 * Math.cos((2 * Math.PI * f) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < samples.length; i++) {
    const s0 = samples[i]! + coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - coefficient * s1 * s2) / samples.length;
}

/**
 * The frequency with the most power between `fromHz` and `toHz`, to 1 Hz: a scan every 20 Hz of
 * the power summed over 50 ms segments (whose bins are 20 Hz wide, so that no tone falls between
 * two steps), then every 1 Hz around the best over the whole signal.
 *
 * @remarks
 * The segments cover the whole signal (at most 40 of them, evenly spread), so a gap, a click or a
 * stretch of silence in one part of a recording does not decide the coarse scan.
 *
 * @public
 */
export function dominantFrequency(samples: Int16Array, sampleRate: number, fromHz = 100, toHz = Math.min(sampleRate / 2 - 100, 4000)): number {
  const segmentLength = Math.round(sampleRate * 0.05);
  const available = Math.floor(samples.length / segmentLength);
  const segments: Int16Array[] = [];
  if (available <= 1) {
    segments.push(samples.subarray(0, Math.min(samples.length, segmentLength)));
  } else {
    const count = Math.min(available, 40);
    for (let i = 0; i < count; i++) {
      const start = Math.floor((i * available) / count) * segmentLength;
      segments.push(samples.subarray(start, start + segmentLength));
    }
  }
  const segmentPower = (f: number): number => {
    let sum = 0;
    for (const segment of segments) sum += powerAt(segment, sampleRate, f);
    return sum;
  };
  const scan = (power: (f: number) => number, from: number, to: number, step: number): number => {
    let best = from;
    let bestPower = -1;
    for (let f = from; f <= to; f += step) {
      const p = power(f);
      if (p > bestPower) {
        bestPower = p;
        best = f;
      }
    }
    return best;
  };
  const coarse = scan(segmentPower, fromHz, toHz, 20);
  return scan((f) => powerAt(samples, sampleRate, f), Math.max(fromHz, coarse - 20), Math.min(toHz, coarse + 20), 1);
}

/**
 * SNR in dB of `samples` against the least-squares sine of frequency `f` (amplitude and phase
 * fitted): the residual is the noise.
 *
 * @public
 */
export function sineSnrDb(samples: Int16Array, sampleRate: number, f: number): number {
  const w = (2 * Math.PI * f) / sampleRate;
  let ss = 0;
  let cc = 0;
  let sc = 0;
  let ys = 0;
  let yc = 0;
  const n = samples.length;
  for (let i = 0; i < n; i++) {
    const s = Math.sin(w * i);
    const c = Math.cos(w * i);
    ss += s * s;
    cc += c * c;
    sc += s * c;
    ys += samples[i]! * s;
    yc += samples[i]! * c;
  }
  const det = ss * cc - sc * sc;
  const a = (ys * cc - yc * sc) / det;
  const b = (yc * ss - ys * sc) / det;
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < n; i++) {
    const fit = a * Math.sin(w * i) + b * Math.cos(w * i);
    signal += fit * fit;
    const e = samples[i]! - fit;
    noise += e * e;
  }
  return 10 * Math.log10(signal / Math.max(noise, 1e-9));
}

/** RMS level of samples. @public */
export function rms(samples: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  return Math.sqrt(sum / Math.max(1, samples.length));
}

/** Joins frames into one array. @public */
export function concatSamples(chunks: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
