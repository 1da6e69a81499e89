import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../../../src-shared/errors.ts';
import { rejectionOf } from '../../../src-shared/testing/app-errors.ts';
import { concatFloat32 } from '../../audio/samples.ts';
import { Prng } from '../generation/prng.ts';
import { compileDac } from './compile.ts';
import { DacCodecRunner } from './codec-runner.ts';
import { DAC_TINY_CONFIG } from './dac-config.ts';
import { writeRandomDacCheckpoint } from './random-checkpoint.ts';
import { StreamingDacDecoder, type AudioChunk, type ChunkPolicy } from './streaming-decoder.ts';

const K = 9;
const HOP = 512;

/** Random frames, frame-major [frames, 9], with a few EOS/PAD leftovers the graph maps to 0. */
function randomFrames(frames: number, seed: number): Int32Array {
  const rng = Prng.fromSeed(seed);
  return Int32Array.from({ length: frames * K }, () => {
    const r = rng.nextUint32();
    return r % 97 === 0 ? 1024 + (r % 3) : r % 1024;
  });
}

function channelMajor(frameMajor: Int32Array, frames: number): Int32Array {
  const out = new Int32Array(frameMajor.length);
  for (let f = 0; f < frames; f++) for (let c = 0; c < K; c++) out[c * frames + f] = frameMajor[f * K + c];
  return out;
}

interface StreamResult {
  chunks: AudioChunk[];
  /** Frames pushed when each chunk came out (undefined: it came from finish()). */
  pushedAt: Array<number | undefined>;
  audio: Float32Array;
}

/** Streams `frames` in pieces of the given sizes (cycled), then finishes. */
async function stream(decoder: StreamingDacDecoder, frames: Int32Array, pieces: number[]): Promise<StreamResult> {
  const chunks: AudioChunk[] = [];
  const pushedAt: Array<number | undefined> = [];
  const total = frames.length / K;
  for (let at = 0, i = 0; at < total; i++) {
    const n = Math.min(pieces[i % pieces.length], total - at);
    for (const c of await decoder.push(frames.subarray(at * K, (at + n) * K))) {
      chunks.push(c);
      pushedAt.push(at + n);
    }
    at += n;
  }
  for (const c of await decoder.finish()) {
    chunks.push(c);
    pushedAt.push(undefined);
  }
  const audio = concatFloat32(chunks.map((c) => c.audio));
  return { chunks, pushedAt, audio };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('StreamingDacDecoder', () => {
  let root: string;
  let runner: DacCodecRunner;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'dac-stream-'));
    await writeRandomDacCheckpoint(join(root, 'ckpt'), DAC_TINY_CONFIG, { seed: 5 });
    runner = DacCodecRunner.create(await compileDac(join(root, 'ckpt'), join(root, 'out'), { precision: 'fp32' }));
  });

  afterAll(async () => {
    await runner?.release();
    await rm(root, { recursive: true, force: true });
  });

  const policies: Array<Partial<ChunkPolicy>> = [
    {}, // default: 8, 16, 32, 64, 86, ...
    { firstChunkFrames: 1, chunkFrames: 1 },
    { firstChunkFrames: 3, chunkFrames: 17, growth: 1.5 },
    { firstChunkFrames: 40, chunkFrames: 25, growth: Infinity },
  ];
  // Shorter than one side's context, than both, just past them, and long enough for many chunks.
  const lengths = [1, 5, 10, 11, 21, 33, 64];

  it('concatenated chunks equal one full decode for every policy, length and push pattern', async () => {
    for (const length of lengths) {
      const frames = randomFrames(length, length);
      const full = await runner.decode(channelMajor(frames, length), 1, length);
      for (const policy of policies) {
        for (const pieces of [[1], [4, 1, 13], [length]]) {
          const decoder = new StreamingDacDecoder({ run: runner.decodeFn(), policy });
          const { chunks, audio } = await stream(decoder, frames, pieces);
          const what = `length ${length}, policy ${JSON.stringify(policy)}, pieces ${pieces}`;
          expect(audio.length, what).toBe(length * HOP);
          expect(maxAbsDiff(audio, full), what).toBeLessThanOrEqual(1e-5);
          // Chunks tile the sequence in order, and only the last is final.
          expect(chunks.map((c) => c.startFrame), what).toEqual(chunks.map((_, i) => chunks.slice(0, i).reduce((n, c) => n + c.frames, 0)));
          expect(chunks.map((c) => c.final), what).toEqual(chunks.map((_, i) => i === chunks.length - 1));
          expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
        }
      }
    }
  });

  it('property: any length, chunk policy and push pattern streams to the full decode', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 120 }),
      fc.record({ firstChunkFrames: fc.integer({ min: 1, max: 50 }), chunkFrames: fc.integer({ min: 1, max: 90 }), growth: fc.constantFrom(1.01, 1.5, 2, 3, Infinity) }),
      fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 6 }).filter((p) => p.some((n) => n > 0)),
      fc.integer({ min: 0, max: 1e6 }),
      async (length, policy, pieces, seed) => {
        const frames = randomFrames(length, seed);
        const full = await runner.decode(channelMajor(frames, length), 1, length);
        const { chunks, audio } = await stream(new StreamingDacDecoder({ run: runner.decodeFn(), policy }), frames, pieces);
        expect(chunks.map((c) => c.startFrame)).toEqual(chunks.map((_, i) => chunks.slice(0, i).reduce((n, c) => n + c.frames, 0)));
        expect(maxAbsDiff(audio, full)).toBeLessThanOrEqual(1e-5);
      }), { numRuns: 30 });
  });

  it('decodes codes outside the codebook (EOS/PAD/BOS leftovers, negatives, int32 extremes) exactly as code 0', async () => {
    const length = 30;
    const frames = randomFrames(length, 41).map((v) => v % 1024);
    const odd = frames.slice();
    const zeroed = frames.slice();
    const outside = [-1, 1024, 1025, 1026, 1027, 2 ** 31 - 1, -(2 ** 31)];
    for (let i = 0; i < frames.length; i += 5) {
      odd[i] = outside[(i / 5) % outside.length];
      zeroed[i] = 0;
    }
    const expected = await runner.decode(channelMajor(zeroed, length), 1, length);
    expect(Array.from(await runner.decode(channelMajor(odd, length), 1, length))).toEqual(Array.from(expected));
    const { audio } = await stream(new StreamingDacDecoder({ run: runner.decodeFn(), policy: { firstChunkFrames: 3, chunkFrames: 7 } }), odd, [4]);
    expect(maxAbsDiff(audio, expected)).toBeLessThanOrEqual(1e-5);
  });

  it('uses exactly the receptive field: one changed frame alters output frames F − 10 ... F + 10 only', async () => {
    const [length, f] = [40, 20];
    const codes = channelMajor(randomFrames(length, 3), length);
    const changed = codes.slice();
    for (let c = 0; c < K; c++) changed[c * length + f] = (changed[c * length + f] + 511) % 1024;
    const [a, b] = [await runner.decode(codes, 1, length), await runner.decode(changed, 1, length)];
    const differing = [...a.keys()].filter((i) => a[i] !== b[i]);
    const { left, right } = runner.compiled.context;
    // Inside the window (sufficient context) ...
    expect(differing[0]).toBeGreaterThanOrEqual((f - left) * HOP);
    expect(differing[differing.length - 1]).toBeLessThan((f + right + 1) * HOP);
    // ... and reaching into its first and last frames (one frame less would not be exact).
    expect(differing[0]).toBeLessThan((f - left + 1) * HOP);
    expect(differing[differing.length - 1]).toBeGreaterThanOrEqual((f + right) * HOP);
  });

  it('emits each chunk as soon as its right context exists, sized by the policy', async () => {
    const length = 130;
    const decoder = new StreamingDacDecoder({ run: runner.decodeFn(), policy: { firstChunkFrames: 8, chunkFrames: 30, growth: 2 } });
    expect(decoder.framesNeededForNextChunk).toBe(18);
    const { chunks, pushedAt } = await stream(decoder, randomFrames(length, 77), [1]);
    expect(chunks.map((c) => c.frames)).toEqual([8, 16, 30, 30, 30, 16]);
    // Pushed one frame at a time: a chunk ending at frame b appears with the push of frame b + 10.
    const live = chunks.filter((_, i) => pushedAt[i] !== undefined);
    expect(live.map((c, i) => pushedAt[i]! - (c.startFrame + c.frames))).toEqual(live.map(() => 10));
    // The tail waits for finish(): no right context exists before the stream ends.
    expect(pushedAt.slice(-1)).toEqual([undefined]);
    expect(decoder.framesEmitted).toBe(length);
  });

  it('keeps chunks in order when pushes overlap', async () => {
    const length = 60;
    const frames = randomFrames(length, 9);
    const decoder = new StreamingDacDecoder({ run: runner.decodeFn(), policy: { firstChunkFrames: 4, chunkFrames: 8 } });
    const pending = Array.from({ length: length / 5 }, (_, i) => decoder.push(frames.subarray(i * 5 * K, (i + 1) * 5 * K)));
    const chunks = [...(await Promise.all(pending)).flat(), ...(await decoder.finish())];
    const audio = new Float32Array(length * HOP);
    for (const c of chunks) audio.set(c.audio, c.startFrame * HOP);
    expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
    expect(maxAbsDiff(audio, await runner.decode(channelMajor(frames, length), 1, length))).toBeLessThanOrEqual(1e-5);
  });

  it('rejects malformed input with clear errors', async () => {
    const decoder = new StreamingDacDecoder({ run: runner.decodeFn() });
    await expect(decoder.push([1, 2, 3])).rejects.toThrow(/9 codes each; got 3/);
    await expect(decoder.push(Array.from({ length: 9 }, (_, i) => (i === 4 ? 2.5 : 1)))).rejects.toThrow(/2.5 at position 4 is not a 32-bit integer/);
    expect(await decoder.finish()).toEqual([]);
    await expect(decoder.push(new Int32Array(9))).rejects.toThrow(AppError);
    expect(() => new StreamingDacDecoder({ run: runner.decodeFn(), policy: { chunkFrames: 0 } })).toThrow(/chunkFrames must be a positive integer/);
    expect(() => new StreamingDacDecoder({ run: runner.decodeFn(), policy: { growth: 1 } })).toThrow(/growth must be a number > 1/);

    const short = new StreamingDacDecoder({ run: () => new Float32Array(100) });
    await short.push(new Int32Array(9 * 3));
    expect((await rejectionOf(short.finish())).code).toBe('engine-failed');
  });
});
