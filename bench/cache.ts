// npm run bench:cache — take cache figures as JSON: time from "ask for a take" to the first
// 100 ms of decoded PCM (findTake + openAudioStream + incremental FLAC decode), FLAC encode and
// decode speed, and compression, for 10 s and 35 s takes (35 s is about Dia's longest pass).
import { rmSync } from 'node:fs';
import { decodeFlac, encodeFlac, loadFlac } from '../src-main/store/flac.ts';
import { floatToPcm24 } from '../src-main/store/pcm.ts';
import { openTakeStore } from '../src-main/store/take-store.ts';
import { sampleLine, sampleTake, tempDir } from '../src-main/store/testing.ts';

const SAMPLE_RATE = 44_100;
const FIRST_AUDIO_SAMPLES = SAMPLE_RATE / 10;
const PLAYBACK_RUNS = 50;
const CODEC_RUNS = 5;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function summary(ms: number[]): { medianMs: number; p95Ms: number; maxMs: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  return { medianMs: round(percentile(sorted, 0.5)), p95Ms: round(percentile(sorted, 0.95)), maxMs: round(sorted.at(-1)!) };
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[values.length >> 1];
}

async function benchTake(dir: string, seconds: number, seed: number) {
  const take = sampleTake(seed, seconds, sampleLine({ lineId: `bench-${seconds}` }));
  const pcm = floatToPcm24(take.audio);

  const encodeMs: number[] = [];
  const decodeMs: number[] = [];
  let flac: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < CODEC_RUNS; i++) {
    let t = performance.now();
    flac = encodeFlac(pcm, SAMPLE_RATE);
    encodeMs.push(performance.now() - t);
    t = performance.now();
    decodeFlac(flac, 'bench');
    decodeMs.push(performance.now() - t);
  }

  let store = await openTakeStore(dir);
  let t = performance.now();
  const record = store.putTake(take);
  const putMs = performance.now() - t;
  store.close();

  // First request after reopening the store: a fresh connection, as at app start.
  const firstAudio = async (s: typeof store): Promise<number> => {
    const start = performance.now();
    const hit = s.findTake(record.key);
    if (!hit) throw new Error('bench take vanished');
    const stream = s.openAudioStream(hit.id);
    const head = stream.readSamples(FIRST_AUDIO_SAMPLES);
    const elapsed = performance.now() - start;
    stream.close();
    if (!head || head.length < FIRST_AUDIO_SAMPLES) throw new Error('stream gave less than 100 ms');
    return elapsed;
  };
  store = await openTakeStore(dir);
  const afterReopenMs = await firstAudio(store);
  const warm: number[] = [];
  for (let i = 0; i < PLAYBACK_RUNS; i++) warm.push(await firstAudio(store));
  t = performance.now();
  store.readAudio(record.id);
  const readAllMs = performance.now() - t;
  store.close();

  const encMs = median(encodeMs);
  const decMs = median(decodeMs);
  return {
    seconds,
    firstAudio100ms: { afterReopenMs: Math.round(afterReopenMs * 1000) / 1000, ...summary(warm), runs: PLAYBACK_RUNS },
    encode: { ms: Math.round(encMs * 10) / 10, timesRealtime: Math.round(seconds / (encMs / 1000)) },
    decode: { ms: Math.round(decMs * 10) / 10, timesRealtime: Math.round(seconds / (decMs / 1000)) },
    putTakeMs: Math.round(putMs * 10) / 10,
    readAudioMs: Math.round(readAllMs * 10) / 10,
    flacBytes: flac.length,
    compression: {
      vsFloat32: Math.round(((pcm.length * 4) / flac.length) * 100) / 100,
      vs24BitPcm: Math.round(((pcm.length * 3) / flac.length) * 100) / 100,
      kbitPerSecond: Math.round((flac.length * 8) / seconds / 1000),
    },
  };
}

await loadFlac();
const dir = tempDir('dia-bench-cache-');
try {
  const takes = [await benchTake(dir, 10, 1), await benchTake(dir, 35, 2)];
  const result = {
    bench: 'cache',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    audio: 'synthetic speech-like mono 44.1 kHz (16 harmonics, syllable envelope, peak -10 dBFS, noise floor -65 dBFS RMS); stored as 24-bit FLAC level 5',
    targetFirstAudioMs: 50,
    takes,
    meetsTarget: takes.every((t) => t.firstAudio100ms.afterReopenMs < 50 && t.firstAudio100ms.p95Ms < 50),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
