import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { AppError } from '../../../src-shared/errors.ts';
import { encodeWav, parseWav, readWavFile } from './wav.ts';

/** A WAV built chunk by chunk, for formats and layouts encodeWav does not write. */
function riff(chunks: Array<[string, Uint8Array]>): Uint8Array {
  const parts: number[] = [];
  const u32 = (v: number): number[] => [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255];
  const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
  for (const [id, body] of chunks) {
    parts.push(...ascii(id), ...u32(body.length), ...body);
    if (body.length & 1) parts.push(0);
  }
  return Uint8Array.from([...ascii('RIFF'), ...u32(4 + parts.length), ...ascii('WAVE'), ...parts]);
}

function fmt(format: number, channels: number, rate: number, bits: number, extensibleSubformat?: number): Uint8Array {
  const size = extensibleSubformat === undefined ? 16 : 40;
  const v = new DataView(new ArrayBuffer(size));
  const align = channels * (bits / 8);
  v.setUint16(0, extensibleSubformat === undefined ? format : 0xfffe, true);
  v.setUint16(2, channels, true);
  v.setUint32(4, rate, true);
  v.setUint32(8, rate * align, true);
  v.setUint16(12, align, true);
  v.setUint16(14, bits, true);
  if (extensibleSubformat !== undefined) {
    v.setUint16(16, 22, true);
    v.setUint16(24, extensibleSubformat, true);
  }
  return new Uint8Array(v.buffer);
}

function parseError(bytes: Uint8Array): AppError {
  try {
    parseWav(bytes, 'clip.wav');
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('invalid-input');
    expect((err as AppError).message.startsWith('clip.wav: ')).toBe(true);
    return err as AppError;
  }
  throw new Error('expected parseWav to throw');
}

describe('parseWav', () => {
  const stereo = { sampleRate: 22050, channels: [Float32Array.of(0, 0.5, -0.5, 0.999), Float32Array.of(-1, 0.25, 0.125, 0)] };

  it('reads back 16-bit PCM and 32-bit float files', () => {
    const pcm = parseWav(encodeWav(stereo, 'pcm16'), 'a.wav');
    expect(pcm.sampleRate).toBe(22050);
    expect(pcm.channels).toHaveLength(2);
    for (let c = 0; c < 2; c++) for (let i = 0; i < 4; i++) expect(Math.abs(pcm.channels[c][i] - stereo.channels[c][i])).toBeLessThan(1 / 16384);
    expect(parseWav(encodeWav(stereo, 'float32'), 'b.wav')).toEqual(stereo);
  });

  it('decodes 8-bit unsigned, 24-bit and 32-bit PCM with torchaudio scaling', () => {
    const u8 = parseWav(riff([['fmt ', fmt(1, 1, 8000, 8)], ['data', Uint8Array.of(0x80, 0x00, 0xff)]]), 'u8.wav');
    expect(Array.from(u8.channels[0])).toEqual([0, -1, 127 / 128]);
    const s24 = parseWav(riff([['fmt ', fmt(1, 1, 8000, 24)], ['data', Uint8Array.of(1, 0, 0, 0, 0, 0x80, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff)]]), 's24.wav');
    expect(Array.from(s24.channels[0])).toEqual([1 / 8388608, -1, Math.fround(8388607 / 8388608), -1 / 8388608]);
    const s32 = parseWav(riff([['fmt ', fmt(1, 1, 8000, 32)], ['data', Uint8Array.of(0, 0, 0, 0x80, 0, 0, 0, 0x40)]]), 's32.wav');
    expect(Array.from(s32.channels[0])).toEqual([-1, 0.5]);
  });

  it('handles WAVE_FORMAT_EXTENSIBLE, odd-sized chunks before the data and an unknown data size', () => {
    const data = new Uint8Array(Float32Array.of(0.25, -0.75).buffer);
    const ext = parseWav(riff([['fmt ', fmt(0, 1, 16000, 32, 3)], ['LIST', Uint8Array.of(1, 2, 3)], ['data', data]]), 'ext.wav');
    expect(Array.from(ext.channels[0])).toEqual([0.25, -0.75]);
    const streamed = riff([['fmt ', fmt(3, 1, 16000, 32)], ['data', data]]);
    new DataView(streamed.buffer).setUint32(streamed.length - data.length - 4, 0xffffffff, true);
    expect(Array.from(parseWav(streamed, 's.wav').channels[0])).toEqual([0.25, -0.75]);
  });

  it('rejects truncated and malformed files with the reason', () => {
    const whole = encodeWav(stereo, 'pcm16');
    expect(parseError(whole.subarray(0, whole.length - 3)).message).toMatch(/truncated: the data chunk declares 16 bytes but only 13 follow/);
    expect(parseError(whole.subarray(0, 30)).message).toMatch(/truncated: the "fmt " chunk declares 16 bytes/);
    expect(parseError(whole.subarray(0, 36)).message).toMatch(/no data chunk/);
    expect(parseError(new TextEncoder().encode('ID3\u0004 not a wav at all')).message).toMatch(/not a WAV file/);
    expect(parseError(riff([['data', Uint8Array.of(0, 0)]])).message).toMatch(/data chunk comes before the fmt chunk/);
    expect(parseError(riff([['fmt ', fmt(2, 1, 8000, 4)], ['data', Uint8Array.of(0)]])).message).toMatch(/WAV encoding 2 is not supported/);
    expect(parseError(riff([['fmt ', fmt(1, 0, 8000, 16)], ['data', Uint8Array.of(0)]])).message).toMatch(/has 0 channels/);
    expect(parseError(riff([['fmt ', fmt(1, 1, 8000, 12)], ['data', Uint8Array.of(0)]])).message).toMatch(/12-bit PCM samples are not supported/);
    expect(parseError(riff([['fmt ', fmt(1, 2, 8000, 16)], ['data', Uint8Array.of(0, 0, 0)]])).message).toMatch(/not a whole number of 4-byte frames/);
  });

  it('never fails with anything but an AppError on damaged input', () => {
    const valid = encodeWav(stereo, 'pcm16');
    fc.assert(
      fc.property(fc.nat(valid.length), fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), (cut, edits) => {
        const bytes = valid.slice(0, cut);
        for (const [at, v] of edits) if (at < bytes.length) bytes[at] = v;
        try {
          const audio = parseWav(bytes, 'fuzz.wav');
          expect(audio.channels.every((c) => c.length === audio.channels[0].length)).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(AppError);
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('readWavFile', () => {
  it('reads a file and names a missing one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wav-'));
    const path = join(dir, 'voice.wav');
    await writeFile(path, encodeWav({ sampleRate: 44100, channels: [Float32Array.of(0.5)] }, 'float32'));
    expect(Array.from((await readWavFile(path)).channels[0])).toEqual([0.5]);
    await expect(readWavFile(join(dir, 'gone.wav'))).rejects.toThrow(new RegExp(`Audio file not found: .*gone\\.wav`));
  });
});
