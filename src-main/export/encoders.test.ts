import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav, concatBytes } from '../audio/wav.ts';
import { ffmpegDecode, speechLikeSignal } from '../audio/testing.ts';
import { decodeFlac } from '../store/flac.ts';
import { pcm24ToFloat } from '../store/pcm.ts';
import { checkAudioOptions, encodeAudio, prepareEncoder } from './encoders.ts';
import { crc16 } from './mp3.ts';
import type { AudioOptions } from './types.ts';

const dir = mkdtempSync(join(tmpdir(), 'encoders-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => prepareEncoder('flac'));

const audio = (o: Partial<AudioOptions>): AudioOptions => ({ format: 'wav', bitDepth: 24, sampleRate: 44_100, channels: 1, mp3BitrateKbps: 192, ...o });
const signal = speechLikeSignal(1.5, { seed: 5 });

describe('encodeAudio', () => {
  it('WAV 16/24/32 reads back at the chosen depth', () => {
    for (const bitDepth of [16, 24, 32] as const) {
      const back = decodeWav(concatBytes(encodeAudio([signal], audio({ bitDepth }), 'x.wav', 1)), 'x.wav');
      expect(back.bitsPerSample).toBe(bitDepth);
      const step = bitDepth === 32 ? 0 : 2 ** (1 - bitDepth);
      let worst = 0;
      for (let i = 0; i < signal.length; i++) worst = Math.max(worst, Math.abs(back.channels[0][i] - signal[i]));
      expect(worst).toBeLessThanOrEqual(bitDepth === 16 ? 1.5 * step : step / 2 + 1e-9);
    }
  });

  it('FLAC decodes back, with the same library, to the 24-bit samples', () => {
    const bytes = concatBytes(encodeAudio([signal], audio({ format: 'flac', sampleRate: 48_000 }), 'x.flac', 1));
    const { pcm, sampleRate } = decodeFlac(bytes, 'x.flac');
    expect(sampleRate).toBe(48_000);
    const back = pcm24ToFloat(pcm);
    expect(back.length).toBe(signal.length);
    let worst = 0;
    for (let i = 0; i < signal.length; i++) worst = Math.max(worst, Math.abs(back[i] - signal[i]));
    expect(worst).toBeLessThanOrEqual(2 ** -24);
    expect(bytes.length).toBeLessThan(signal.length * 3); // compressed below raw 24-bit
  });

  it('hands FLAC out in steps, so the writer can give the event loop turns on a long file', () => {
    const long = speechLikeSignal(10, { seed: 6 });
    const chunks = [...encodeAudio([long], audio({ format: 'flac' }), 'long.flac', 1)];
    expect(chunks.length).toBeGreaterThan(4);
    expect(decodeFlac(concatBytes(chunks), 'long.flac').pcm.length).toBe(long.length);
  });

  it('stereo 16-bit FLAC decodes (ffmpeg) within dither error, left and right in place', async () => {
    // Different signals per side, so a swap or a mis-interleave cannot pass.
    const left = speechLikeSignal(1.2, { seed: 21 });
    const right = speechLikeSignal(1.2, { seed: 22 }).map((x) => x * 0.5);
    const file = join(dir, 'stereo16.flac');
    writeFileSync(file, concatBytes(encodeAudio([left, right], audio({ format: 'flac', bitDepth: 16, channels: 2 }), file, 3)));
    const decoded = await ffmpegDecode(file, 2);
    expect(decoded.length).toBe(2 * left.length);
    // TPDF dither adds at most 1 LSB, rounding half an LSB.
    const bound = 1.5 * 2 ** -15 + 1e-7;
    let worst = 0;
    for (let i = 0; i < left.length; i++) {
      worst = Math.max(worst, Math.abs(decoded[2 * i] - left[i]), Math.abs(decoded[2 * i + 1] - right[i]));
    }
    expect(worst).toBeLessThanOrEqual(bound);
    expect(worst).toBeGreaterThan(0); // really 16-bit, not 24
  });

  it('stereo 24-bit FLAC decodes (ffmpeg) to the rounded samples', async () => {
    const left = speechLikeSignal(0.7, { seed: 23 });
    const right = new Float32Array(left.length); // one silent side: its channel must stay silent
    const file = join(dir, 'stereo24.flac');
    writeFileSync(file, concatBytes(encodeAudio([left, right], audio({ format: 'flac', bitDepth: 24, channels: 2 }), file, 3)));
    const decoded = await ffmpegDecode(file, 2);
    expect(decoded.length).toBe(2 * left.length);
    let worstLeft = 0;
    let peakRight = 0;
    for (let i = 0; i < left.length; i++) {
      worstLeft = Math.max(worstLeft, Math.abs(decoded[2 * i] - left[i]));
      peakRight = Math.max(peakRight, Math.abs(decoded[2 * i + 1]));
    }
    expect(worstLeft).toBeLessThanOrEqual(2 ** -24 + 1e-9);
    expect(peakRight).toBe(0);
  });

  it('MP3 decodes (ffmpeg) to the same length and timing, thanks to the LAME tag', async () => {
    for (const [rate, channels] of [[44_100, 1], [48_000, 2], [24_000, 1]] as const) {
      const input = Array.from({ length: channels }, (_, c) => speechLikeSignal(1, { seed: 7 + c, sampleRate: rate }));
      const file = join(dir, `t${rate}.mp3`);
      writeFileSync(file, concatBytes(encodeAudio(input, audio({ format: 'mp3', sampleRate: rate, channels, mp3BitrateKbps: 128 }), file, 1)));
      const decoded = await ffmpegDecode(file, 1);
      expect(decoded.length).toBe(input[0].length);
      // Aligned to the sample: the decoded mono mix correlates best at lag 0.
      const mono = input[0].map((x, i) => (channels === 2 ? (x + input[1][i]) / 2 : x));
      const corr = (lag: number): number => {
        let s = 0;
        for (let i = 2000; i < mono.length - 2000; i++) s += mono[i] * decoded[i + lag];
        return s;
      };
      for (const lag of [-3, -1, 1, 3]) expect(corr(0)).toBeGreaterThan(corr(lag));
    }
  });

  it('computes CRC-16/ARC as the LAME tag needs', () => {
    expect(crc16(new TextEncoder().encode('123456789'))).toBe(0xbb3d);
  });
});

describe('checkAudioOptions', () => {
  it.each([
    [audio({ format: 'flac', bitDepth: 32 }), /FLAC stores integer samples/],
    [audio({ channels: 3 as never }), /Channels must be 1 or 2/],
    [audio({ format: 'mp3', sampleRate: 22_050, mp3BitrateKbps: 100 }), /bit rate must be one of/],
    [audio({ format: 'mp3', sampleRate: 24_000, mp3BitrateKbps: 320 }), /at most 160 kbps/],
    [audio({ sampleRate: 96_000 }), /Sample rate must be one of/],
    [audio({ bitDepth: 8 as never }), /Bit depth must be 16, 24 or 32/],
    [audio({ format: 'ogg' as never }), /Unknown audio format "ogg"/],
  ])('rejects %o', (options, message) => {
    expect(() => checkAudioOptions(options)).toThrow(message);
  });

  it('accepts FLAC at 16 and 24 bits, mono and stereo', () => {
    for (const bitDepth of [16, 24] as const) for (const channels of [1, 2] as const) expect(() => checkAudioOptions(audio({ format: 'flac', bitDepth, channels }))).not.toThrow();
  });
});
