import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeAudio, prepareEncoder } from '../export/encoders.ts';
import { ffmpegDecode, speechLikeSignal } from './testing.ts';
import { TpdfDither, planarInt16, toInt16Dithered } from './dither.ts';
import { concatBytes, decodeWav } from './wav.ts';

const RATE = 8_000;
const dir = mkdtempSync(join(tmpdir(), 'dither-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => prepareEncoder('flac'));

/** Speech with digital silence at the start and in the middle, like a stem where another speaker talks. */
function stemLike(): Float32Array {
  const x = speechLikeSignal(1, { seed: 11, sampleRate: RATE });
  x.fill(0, 0, 800);
  x.fill(0, 2_400, 4_800);
  return x;
}

describe('16-bit dither', () => {
  it('leaves digital silence silent in WAV16 (no ±1 LSB hiss where a speaker is quiet)', () => {
    const x = stemLike();
    const back = decodeWav(concatBytes(encodeWav16(x)), 'stem.wav').channels[0];
    let hiss = 0;
    for (let i = 0; i < x.length; i++) if (x[i] === 0 && back[i] !== 0) hiss++;
    expect(hiss).toBe(0);
  });

  it('leaves digital silence silent in FLAC16 (ffmpeg decodes it) and in the MP3 encoder input', async () => {
    const x = stemLike();
    const file = join(dir, 'stem.flac');
    writeFileSync(file, concatBytes(encodeAudio([x], { format: 'flac', bitDepth: 16, sampleRate: RATE, channels: 1, mp3BitrateKbps: 192 }, file, 3)));
    const pcm = await ffmpegDecode(file);
    expect(pcm.length).toBe(x.length);
    const [mp3Input] = planarInt16([x], 0, x.length, new TpdfDither(3));
    for (let i = 0; i < x.length; i++) {
      if (x[i] !== 0) continue;
      expect(pcm[i]).toBe(0);
      expect(mp3Input[i]).toBe(0);
    }
  });

  it('keeps every non-silent sample as before: the dither draw is still taken on silence', () => {
    const x = stemLike();
    const d = new TpdfDither(7);
    const kept: number[] = [];
    for (let i = 0; i < x.length; i++) {
      const v = toInt16Dithered(x[i], d);
      if (x[i] !== 0) kept.push(v);
    }
    expect(kept.length).toBe(4_800);
    // The samples that the code before silence blanking produced for these inputs (seed 7).
    expect(createHash('sha256').update(new Int16Array(kept)).digest('hex')).toBe('8dfc977ed65dd13b8d66a8aeb0e43eb273820b68f78feedb269e3c788b58c293');
  });

  it('still dithers quiet non-zero samples (a fade tail below 1 LSB is noise, not truncated to zero)', () => {
    const d = new TpdfDither(5);
    let nonZero = 0;
    for (let i = 0; i < 1_000; i++) if (toInt16Dithered(1e-7, d) !== 0) nonZero++;
    expect(nonZero).toBeGreaterThan(100);
  });
});

function encodeWav16(x: Float32Array): Iterable<Uint8Array> {
  return encodeAudio([x], { format: 'wav', bitDepth: 16, sampleRate: RATE, channels: 1, mp3BitrateKbps: 192 }, 'stem.wav', 7);
}
