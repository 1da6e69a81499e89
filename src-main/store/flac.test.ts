import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireFfmpeg } from '../audio/testing.ts';
import { AppError } from '../../src-shared/errors.ts';
import { errorOf } from '../../src-shared/testing/app-errors.ts';
import { bytesSource, decodeFlac, encodeFlac, encodeFlacSteps, FlacStreamDecoder, loadFlac } from './flac.ts';
import { checkAudio, floatToPcm24, pcm24ToFloat } from './pcm.ts';
import { removeTempDirs, seededRandom, speechLikeAudio, tempDir } from './testing.ts';

beforeAll(() => loadFlac());
afterAll(() => removeTempDirs());

describe('24-bit quantisation', () => {
  it('round-trips [-1, 1] within 2^-23 and multiples of 2^-23 exactly', () => {
    const rand = seededRandom(7);
    const x = Float32Array.from({ length: 50_000 }, () => rand() * 2 - 1);
    x.set([1, -1, 0, -0, 2 ** -23, -(2 ** -23), 0.5 + 2 ** -24], 0);
    const back = pcm24ToFloat(floatToPcm24(x));
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(back[i] - x[i]));
    expect(worst).toBeLessThanOrEqual(2 ** -23);
    const grid = Float32Array.from({ length: 1000 }, (_, i) => (i - 500) * 97 * 2 ** -23);
    expect(pcm24ToFloat(floatToPcm24(grid))).toEqual(grid);
  });

  it('clips out-of-range samples to the 24-bit range', () => {
    expect(Array.from(floatToPcm24(Float32Array.from([3, -3])))).toEqual([2 ** 23 - 1, -(2 ** 23)]);
  });

  it('rejects NaN, infinities, empty audio and bad sample rates with invalid-input', () => {
    const cases: Array<[Float32Array, number, RegExp]> = [
      [Float32Array.from([0, Number.NaN]), 44_100, /sample 1 is NaN/],
      [Float32Array.from([Number.POSITIVE_INFINITY]), 44_100, /sample 0 is Infinity/],
      [Float32Array.from([0, 0, Number.NEGATIVE_INFINITY]), 44_100, /sample 2 is -Infinity/],
      [new Float32Array(0), 44_100, /empty/],
      [new Float32Array(10), 44_100.5, /sample rate/],
      [new Float32Array(10), 0, /sample rate/],
    ];
    for (const [samples, rate, message] of cases) {
      const err = errorOf(() => checkAudio(samples, rate, 'test clip'));
      expect(err.code).toBe('invalid-input');
      expect(err.message).toMatch(/test clip/);
      expect(err.message).toMatch(message);
    }
    expect(errorOf(() => checkAudio([0.1] as unknown as Float32Array, 44_100, 'x')).message).toMatch(/Float32Array/);
  });
});

describe('FLAC codec', () => {
  it('is lossless for 24-bit PCM and smaller than float32', () => {
    const pcm = floatToPcm24(speechLikeAudio(3, 11));
    const flac = encodeFlac(pcm, 44_100);
    expect(flac.length).toBeLessThan(pcm.length * 4 * 0.6);
    const { pcm: back, sampleRate } = decodeFlac(flac, 'clip');
    expect(sampleRate).toBe(44_100);
    expect(back).toEqual(pcm);
  });

  it('writes the MD5 and exact sample count into STREAMINFO', () => {
    const pcm = floatToPcm24(speechLikeAudio(0.5, 3));
    const flac = encodeFlac(pcm, 24_000);
    const md5 = Buffer.from(flac.subarray(26, 42)).toString('hex');
    expect(md5).not.toBe('0'.repeat(32));
    const decoder = new FlacStreamDecoder(bytesSource(flac), 'clip');
    expect(decoder.totalSamples).toBe(pcm.length);
    expect(decoder.sampleRate).toBe(24_000);
    decoder.close();
  });

  it('decodes incrementally, one frame per call, without reading past what it needs', () => {
    const pcm = floatToPcm24(speechLikeAudio(4, 5));
    const flac = encodeFlac(pcm, 44_100);
    let bytesRead = 0;
    const source = bytesSource(flac);
    const decoder = new FlacStreamDecoder((max) => {
      const chunk = source(Math.min(max, 4096));
      bytesRead += chunk?.length ?? 0;
      return chunk;
    }, 'clip');
    const first = decoder.next()!;
    expect(first.length).toBe(4096);
    expect(bytesRead).toBeLessThan(flac.length / 4);
    const frames = [first];
    for (let f = decoder.next(); f; f = decoder.next()) frames.push(f);
    expect(Int32Array.from(frames.flatMap((f) => Array.from(f)))).toEqual(pcm);
    expect(decoder.next()).toBeNull();
  });

  it('reports damaged streams as store-corrupt naming the stream', () => {
    const pcm = floatToPcm24(speechLikeAudio(2, 9));
    const flac = encodeFlac(pcm, 44_100);
    const flipped = flac.slice();
    flipped[Math.floor(flac.length / 2)] ^= 0x40;
    const cases: Array<[Uint8Array, RegExp]> = [
      [flipped, /CRC|LOST_SYNC|MD5|samples/],
      [flac.subarray(0, flac.length - 100), /ends after \d+ of 88200 samples/],
      [Uint8Array.from([1, 2, 3, 4]), /LOST_SYNC|STREAMINFO/],
      [new Uint8Array(0), /no STREAMINFO/],
    ];
    for (const [bytes, message] of cases) {
      const err = errorOf(() => decodeFlac(bytes, 'take 42'));
      expect(err.code).toBe('store-corrupt');
      expect(err.message).toMatch(/^take 42: FLAC audio is damaged/);
      expect(err.message).toMatch(message);
    }
  });

  it('reports a STREAMINFO announcing an impossible sample count as damaged, allocating only for what the stream holds', () => {
    const flac = encodeFlac(floatToPcm24(speechLikeAudio(0.5, 3)), 44_100);
    // total_samples: the low 36 bits of file bytes 18..25 (STREAMINFO body bytes 10..17).
    const announcing = (high4: number, low32: number): Uint8Array => {
      const bytes = flac.slice();
      bytes[21] = (bytes[21] & 0xf0) | high4;
      new DataView(bytes.buffer).setUint32(22, low32);
      return bytes;
    };
    const cases: Array<[Uint8Array, RegExp]> = [
      [announcing(0xf, 0xffffffff), /STREAMINFO announces an impossible sample count/],
      // The most a 44.1 kHz stream may announce (600 s).
      [announcing(0, 26_460_000), /stream ends after 22050 of 26460000 samples/],
    ];
    for (const [bytes, message] of cases) {
      const err = errorOf(() => decodeFlac(bytes, 'take 7'));
      expect(err.code).toBe('store-corrupt');
      expect(err.message).toMatch(/^take 7: FLAC audio is damaged/);
      expect(err.message).toMatch(message);
    }
  });

  it('refuses a STREAMINFO whose sample rate or length no store accepts, before decoding a frame', () => {
    const flac = encodeFlac(floatToPcm24(speechLikeAudio(0.5, 3)), 44_100);
    // sample rate: the high 20 bits of file bytes 18..20; total_samples: the low 36 of bytes 21..25.
    const announcing = (rate: number, total = 22_050): Uint8Array => {
      const bytes = flac.slice();
      bytes[18] = rate >> 12;
      bytes[19] = (rate >> 4) & 0xff;
      bytes[20] = ((rate & 0xf) << 4) | (bytes[20] & 0x0f);
      bytes[21] &= 0xf0;
      new DataView(bytes.buffer).setUint32(22, total);
      return bytes;
    };
    expect(decodeFlac(announcing(192_000), 'take 8').sampleRate).toBe(192_000);
    const cases: Array<[Uint8Array, RegExp]> = [
      [announcing(655_350), /sample rate 655350 Hz is outside 8000\.\.192000/],
      [announcing(4_000), /sample rate 4000 Hz is outside 8000\.\.192000/],
      [announcing(44_100, 600 * 44_100 + 1), /announces 26460001 samples, more than the 600 s any audio may last/],
    ];
    for (const [bytes, message] of cases) {
      // The constructor reads only the metadata: no frame is decoded.
      const err = errorOf(() => new FlacStreamDecoder(bytesSource(bytes), 'take 8'));
      expect(err.code).toBe('store-corrupt');
      expect(err.message).toMatch(/^take 8: FLAC audio is damaged/);
      expect(err.message).toMatch(message);
    }
  });

  it('passes errors thrown by the byte source through unchanged', () => {
    const flac = encodeFlac(floatToPcm24(speechLikeAudio(1, 2)), 44_100);
    const source = bytesSource(flac);
    let calls = 0;
    const decoder = new FlacStreamDecoder((max) => {
      if (++calls > 2) throw new AppError('not-found', 'gone');
      return source(Math.min(max, 1000));
    }, 'clip');
    const err = errorOf(() => { while (decoder.next()); });
    expect(err.code).toBe('not-found');
    // The codec stays usable afterwards.
    expect(decodeFlac(flac, 'again').pcm.length).toBe(44_100);
  });
});

/** Integer samples ffmpeg decodes from a FLAC stream, interleaved. */
function ffmpegPcm(flac: Uint8Array, bits: 16 | 24): Int32Array {
  const file = join(tempDir('flac-ffmpeg-'), 'x.flac');
  writeFileSync(file, flac);
  const raw = execFileSync(requireFfmpeg(), ['-v', 'error', '-i', file, '-f', 's32le', '-'], { maxBuffer: 64 * 1024 * 1024 });
  // ffmpeg left-justifies into 32 bits; shift back to the stream's resolution.
  return Int32Array.from(new Int32Array(raw.buffer, raw.byteOffset, raw.byteLength >> 2), (x) => x >> (32 - bits));
}

describe('FLAC export formats', () => {
  it('encodes interleaved stereo at 16 and 24 bits losslessly, channels in order', () => {
    const frames = 30_000;
    for (const bits of [16, 24] as const) {
      const full = 2 ** (bits - 1);
      const left = speechLikeAudio(frames / 44_100, 4);
      const right = speechLikeAudio(frames / 44_100, 5);
      const pcm = new Int32Array(2 * left.length);
      for (let i = 0; i < left.length; i++) {
        pcm[2 * i] = Math.round(left[i] * (full - 1));
        pcm[2 * i + 1] = Math.round(right[i] * 0.25 * (full - 1)); // quieter: a swap would show
      }
      const flac = encodeFlac(pcm, 48_000, { channels: 2, bitsPerSample: bits });
      // STREAMINFO: channels - 1 and bits - 1 sit in bytes 20-21 of the file.
      expect(((flac[20] >> 1) & 0x07) + 1).toBe(2);
      expect((((flac[20] & 1) << 4) | (flac[21] >> 4)) + 1).toBe(bits);
      expect(ffmpegPcm(flac, bits)).toEqual(pcm);
    }
  });

  it('rejects input that is not whole frames or an unsupported layout', () => {
    expect(errorOf(() => encodeFlac(new Int32Array(3), 44_100, { channels: 2, bitsPerSample: 16 })).message).toMatch(/not whole 2-channel frames/);
    expect(errorOf(() => encodeFlac(new Int32Array(4), 44_100, { channels: 3 as never, bitsPerSample: 16 })).code).toBe('invalid-input');
  });

  it('keeps the take decoder to the store format: a stereo stream is refused', () => {
    const flac = encodeFlac(new Int32Array(2000).fill(5), 44_100, { channels: 2, bitsPerSample: 24 });
    const err = errorOf(() => decodeFlac(flac, 'take 7'));
    expect(err.code).toBe('store-corrupt');
    expect(err.message).toMatch(/expected mono 24-bit, found 2 channel/);
  });
});

describe('encodeFlacSteps', () => {
  it('yields once per libFLAC block of 65 536 frames and returns the same stream as encodeFlac', () => {
    const pcm = floatToPcm24(speechLikeAudio(5, 8)); // 220 500 frames: 3 whole blocks and a part
    const steps = encodeFlacSteps(pcm, 44_100);
    let yields = 0;
    let r = steps.next();
    for (; !r.done; r = steps.next()) yields++;
    expect(yields).toBe(4);
    expect(r.value).toEqual(encodeFlac(pcm, 44_100));
  });
});
