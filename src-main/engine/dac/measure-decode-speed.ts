// Measures how fast the real-width (44.1 kHz) DAC decoder runs on this machine, for streaming-sized
// windows: each 1 s chunk (86 frames) is decoded with 10 + 10 frames of context, as
// StreamingDacDecoder does. Uses a random checkpoint at the real widths (generated locally; speed
// does not depend on the weight values). Prints one JSON object. The machine may be shared, so CPU time per decode is reported
// next to wall time.
//
//   node src-main/engine/dac/measure-decode-speed.ts [--runs N] [--precision fp32|fp16] [--threads N] [--keep DIR]
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compileDac, type DacPrecision } from './compile.ts';
import { DacCodecRunner } from './codec-runner.ts';
import { DAC_44KHZ_CONFIG, hopLength } from './dac-config.ts';
import { writeRandomDacCheckpoint } from './random-checkpoint.ts';
import { DEFAULT_CHUNK_POLICY } from './streaming-decoder.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    precision: { type: 'string', default: 'fp32' },
    threads: { type: 'string', default: '0' },
    keep: { type: 'string' },
  },
});

const config = DAC_44KHZ_CONFIG;
const hop = hopLength(config);
const runs = Number(values.runs);
const dir = values.keep ?? (await mkdtemp(join(tmpdir(), 'dac-speed-')));

function codes(frames: number, seed: number): Int32Array {
  return Int32Array.from({ length: config.codebooks * frames }, (_, i) => (i * 7919 + seed * 104729) % config.codebookSize);
}

interface Timing {
  /** Median wall-clock time of one decode. */
  medianMs: number;
  /** Median process CPU time of one decode (all threads): insensitive to other load on the machine. */
  medianCpuMs: number;
  audio: Float32Array;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeDecode(runner: DacCodecRunner, frames: number): Promise<Timing> {
  let audio = await runner.decode(codes(frames, 0), 1, frames); // warm-up (allocations, kernels)
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    audio = await runner.decode(codes(frames, r + 1), 1, frames);
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { medianMs: median(wall), medianCpuMs: median(cpu), audio };
}

try {
  const t0 = performance.now();
  const ckpt = await writeRandomDacCheckpoint(join(dir, 'checkpoint'), config, { dtype: 'F16' });
  const t1 = performance.now();
  const compiled = await compileDac(ckpt.dir, join(dir, `graphs-${values.precision}`), { precision: values.precision as DacPrecision });
  const t2 = performance.now();
  const runner = DacCodecRunner.create(compiled, { intraOpNumThreads: Number(values.threads) });
  const { left, right } = compiled.context;

  const steady = DEFAULT_CHUNK_POLICY.chunkFrames; // 86 frames ≈ 1 s
  const window = steady + left + right;
  const chunk = await timeDecode(runner, window);
  const first = await timeDecode(runner, DEFAULT_CHUNK_POLICY.firstChunkFrames + right);

  let sumSq = 0;
  let clipped = 0;
  for (const v of chunk.audio) {
    sumSq += v * v;
    if (Math.abs(v) > 0.99) clipped++;
  }
  const chunkAudioSeconds = (steady * hop) / config.sampleRate;
  console.log(JSON.stringify({
    precision: values.precision,
    parameters: ckpt.parameterCount,
    checkpointSeconds: +((t1 - t0) / 1000).toFixed(1),
    compileSeconds: +((t2 - t1) / 1000).toFixed(1),
    threads: Number(values.threads) || 'default (all cores)',
    loadAverage1m: +loadavg()[0].toFixed(2),
    steadyChunk: { emittedFrames: steady, decodedFrames: window, medianMs: +chunk.medianMs.toFixed(1), medianCpuMs: +chunk.medianCpuMs.toFixed(1) },
    /** Seconds of audio emitted per wall-clock second. */
    audioSecondsPerSecond: +(chunkAudioSeconds / (chunk.medianMs / 1000)).toFixed(3),
    /** Same per CPU-second: divide by the cores ORT uses for the rate on an otherwise idle machine. */
    audioSecondsPerCpuSecond: +(chunkAudioSeconds / (chunk.medianCpuMs / 1000)).toFixed(3),
    firstChunk: { emittedFrames: DEFAULT_CHUNK_POLICY.firstChunkFrames, decodedFrames: DEFAULT_CHUNK_POLICY.firstChunkFrames + right, medianMs: +first.medianMs.toFixed(1), medianCpuMs: +first.medianCpuMs.toFixed(1) },
    randomWeightsOutput: { rms: +Math.sqrt(sumSq / chunk.audio.length).toFixed(3), clippedFraction: clipped / chunk.audio.length },
  }, null, 2));
  await runner.release();
} finally {
  if (!values.keep) await rm(dir, { recursive: true, force: true });
}
