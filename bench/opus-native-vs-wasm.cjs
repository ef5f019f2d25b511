// Opus through libopus compiled natively (@discordjs/opus, an optional install that needs build
// scripts) against libopus in WebAssembly (opusscript, what @sip-endpoint/media uses): encode +
// decode at 32 kbit/s, 20 ms mono frames at 48 kHz, as a multiple of real time.
// Run: npm install --no-save @discordjs/opus (its install script must be allowed), then
//      node bench/opus-native-vs-wasm.cjs
let OpusEncoder;
try {
  ({ OpusEncoder } = require('@discordjs/opus'));
} catch {
  console.log('@discordjs/opus is not installed: see the comment at the top of this file');
  process.exit(0);
}
const OpusScript = require('opusscript');
const N = 960, frames = 1500; // 30 s
const pcm = Buffer.alloc(N * 2);
for (let i = 0; i < N; i++) pcm.writeInt16LE(Math.round(6000 * Math.sin(i / 5) + 3000 * Math.sin(i / 1.7)), i * 2);
function time(fn) { const t = process.hrtime.bigint(); fn(); return Number(process.hrtime.bigint() - t) / 1e9; }
const results = { native: [], wasm: [] };
for (let run = 0; run < 5; run++) {
  const n = new OpusEncoder(48000, 1); n.setBitrate(32000);
  results.native.push(30 / time(() => { for (let f = 0; f < frames; f++) n.decode(n.encode(pcm)); }));
  const e = new OpusScript(48000, 1, OpusScript.Application.VOIP); const d = new OpusScript(48000, 1, OpusScript.Application.VOIP); e.setBitrate(32000);
  results.wasm.push(30 / time(() => { for (let f = 0; f < frames; f++) d.decode(e.encode(pcm, N)); }));
}
const med = (a) => a.sort((x, y) => x - y)[2];
console.log(`opus encode+decode, median of 5 runs of 30 s: native ${med(results.native).toFixed(0)}x, WebAssembly ${med(results.wasm).toFixed(0)}x real time; native/wasm ${(med(results.native) / med(results.wasm)).toFixed(2)}`);
