import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src-shared/errors.ts';
import { concatBytes, decodeWav, encodeWav, readWavFile, wavHeader, type WavInfo, type WavSampleFormat } from './wav.ts';
import { ffmpegDecode, speechLikeSignal } from './testing.ts';

const dir = mkdtempSync(join(tmpdir(), 'wav-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const left = speechLikeSignal(0.5, { seed: 1 });
const right = speechLikeSignal(0.5, { seed: 2 });
// Full-scale edges: -1 must map to the most negative integer, +1 clip to the largest.
left[0] = -1;
left[1] = 1;

function maxError(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('WAV round trip', () => {
  const cases: [WavSampleFormat, number, number][] = [
    // format, bits read back, largest error: 16-bit has TPDF dither (up to 1.5 LSB), 24-bit rounding.
    ['pcm16', 16, 1.5 / 32_768 + 1e-9],
    ['pcm24', 24, 0.5 / 8_388_608 + 1e-9],
    ['float32', 32, 0],
  ];
  for (const [format, bits, tolerance] of cases) {
    it(`${format}, mono and stereo, reads back within ${tolerance.toExponential(1)}`, () => {
      for (const channels of [[left], [left, right]]) {
        const bytes = concatBytes(encodeWav(channels, 44_100, format));
        const back = decodeWav(bytes, `${format}.wav`);
        expect(back.sampleRate).toBe(44_100);
        expect(back.bitsPerSample).toBe(bits);
        expect(back.channels.length).toBe(channels.length);
        for (let c = 0; c < channels.length; c++) {
          expect(back.channels[c].length).toBe(channels[c].length);
          // +1.0 clips to the largest integer, one step below full scale.
          const expected = channels[c].map((x) => (format === 'float32' ? x : Math.min(x, 1 - 2 ** (1 - bits))));
          expect(maxError(back.channels[c], expected)).toBeLessThanOrEqual(tolerance);
        }
        if (format !== 'float32') expect(back.channels[0][0]).toBe(-1);
      }
    });
  }

  it('dithers 16-bit output reproducibly: same seed, same bytes; another seed, other bytes', () => {
    const a = concatBytes(encodeWav([left], 48_000, 'pcm16', { ditherSeed: 7 }));
    const b = concatBytes(encodeWav([left], 48_000, 'pcm16', { ditherSeed: 7 }));
    const c = concatBytes(encodeWav([left], 48_000, 'pcm16', { ditherSeed: 8 }));
    expect(Buffer.compare(a, b)).toBe(0);
    expect(Buffer.compare(a, c)).not.toBe(0);
  });

  it('writes files ffmpeg reads sample for sample (float32 with its fact chunk, 24-bit PCM)', async () => {
    for (const format of ['float32', 'pcm24'] as const) {
      const file = join(dir, `ff-${format}.wav`);
      writeFileSync(file, concatBytes(encodeWav([left, right], 48_000, format)));
      const decoded = await ffmpegDecode(file, 2);
      const ours = (await readWavFile(file)).channels;
      expect(decoded.length).toBe(left.length * 2);
      let worst = 0;
      for (let i = 0; i < left.length; i++) {
        worst = Math.max(worst, Math.abs(decoded[2 * i] - ours[0][i]), Math.abs(decoded[2 * i + 1] - ours[1][i]));
      }
      expect(worst).toBeLessThan(1e-6);
    }
  });
});

describe('WAV reader errors', () => {
  const good = concatBytes(encodeWav([left], 44_100, 'pcm16'));

  it.each([
    ['not RIFF', new Uint8Array(64), /no RIFF\/WAVE header/],
    ['truncated data', good.subarray(0, good.length - 100), /data chunk announces/],
    ['header only', wavHeader(1, 44_100, 'pcm16', 0).subarray(0, 20), /no fmt chunk|fmt chunk runs past/],
  ])('rejects %s with an AppError naming the file', (_name, bytes, pattern) => {
    let caught: unknown;
    try {
      decodeWav(bytes, 'clip.wav');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect((caught as AppError).code).toBe('invalid-input');
    expect((caught as AppError).message).toMatch(/^clip\.wav is not a readable WAV file/);
    expect((caught as AppError).message).toMatch(pattern);
  });

  it('pads an odd-sized data chunk (24-bit mono, odd frame count) as RIFF requires', async () => {
    const bytes = concatBytes(encodeWav([Float32Array.from([0.25, -0.5, 0.75])], 44_100, 'pcm24'));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(bytes.length).toBe(44 + 9 + 1);
    expect(view.getUint32(4, true)).toBe(bytes.length - 8); // RIFF size counts the pad byte
    expect(view.getUint32(40, true)).toBe(9); // the data chunk's size does not
    expect(bytes.at(-1)).toBe(0);
    const file = join(dir, 'odd.wav');
    writeFileSync(file, bytes);
    expect(Array.from((await readWavFile(file)).channels[0])).toEqual([0.25, -0.5, 0.75]);
    expect(Array.from(await ffmpegDecode(file))).toEqual([0.25, -0.5, 0.75]);
  });

  it('reads a file header first: checkHeader sees the format and can refuse a 3 GiB file before its samples are read', async () => {
    // A sparse file whose header announces an hour and a half of 48 kHz stereo: reading it whole
    // would fail (over 2 GiB) or take seconds and gigabytes; the header alone says how long it is.
    const dataBytes = 3 * 2 ** 30;
    const header = wavHeader(2, 48_000, 'pcm16', dataBytes / 4);
    const file = join(dir, 'huge.wav');
    writeFileSync(file, header);
    truncateSync(file, header.length + dataBytes);
    let seen: WavInfo | undefined;
    const refused = new AppError('invalid-input', 'too long');
    await expect(readWavFile(file, { checkHeader: (info) => { seen = info; throw refused; } })).rejects.toBe(refused);
    expect(seen).toEqual({ sampleRate: 48_000, channelCount: 2, encoding: 'pcm', bitsPerSample: 16, frames: dataBytes / 4, dataOffset: 44, dataBytes, blockAlign: 4 });
  });

  it('reads only the data chunk of a file with other chunks around it, as decodeWav reads the bytes', async () => {
    const wav = concatBytes(encodeWav([left, right], 22_050, 'pcm24'));
    // A LIST chunk of odd size (padded) between fmt and data, and a trailing chunk after data.
    const list = Uint8Array.from([...'LIST'].map((c) => c.charCodeAt(0)).concat([3, 0, 0, 0, 1, 2, 3, 0]));
    const tail = Uint8Array.from([...'junk'].map((c) => c.charCodeAt(0)).concat([2, 0, 0, 0, 9, 9]));
    const bytes = concatBytes([wav.subarray(0, 36), list, wav.subarray(36), tail]);
    const file = join(dir, 'chunks.wav');
    writeFileSync(file, bytes);
    const fromFile = await readWavFile(file);
    expect(fromFile).toEqual(decodeWav(bytes, file));
    expect(fromFile.channels[1].length).toBe(right.length);
    writeFileSync(file, bytes.subarray(0, bytes.length - tail.length - 7));
    await expect(readWavFile(file)).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringMatching(/chunks\.wav is not a readable WAV file: data chunk announces/) });
  });

  it('passes on what checkHeader throws as it is, never as a read failure', async () => {
    const file = join(dir, 'checked.wav');
    writeFileSync(file, concatBytes(encodeWav([left], 22_050, 'pcm16')));
    const bug = new TypeError('a bug in the caller');
    await expect(readWavFile(file, { checkHeader: () => { throw bug; } })).rejects.toBe(bug);
  });

  it('reports a missing file as not-found and a folder as a folder, in words', async () => {
    const missing = join(dir, 'nope.wav');
    await expect(readWavFile(missing)).rejects.toMatchObject({ code: 'not-found', message: `Cannot read ${missing}: no such file` });
    await expect(readWavFile(dir)).rejects.toMatchObject({ code: 'io-failed', message: `Cannot read ${dir}: it is a folder, not a file` });
  });

  it('refuses audio over the 4 GiB RIFF limit before writing anything', () => {
    expect(() => wavHeader(2, 48_000, 'float32', 2 ** 29, 'big.wav')).toThrow(/big\.wav: .*over WAV's 4 GiB limit/);
  });
});
