// WAV files whose data size was never filled in (a pipe, a recorder that stopped, a copy cut
// short): read leniently only when the caller asks (clips the user brings), strictly otherwise.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { concatBytes, encodeWav, readWavFile } from './wav.ts';
import { requireFfmpeg, speechLikeSignal } from './testing.ts';

const dir = mkdtempSync(join(tmpdir(), 'wav-unsized-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const left = speechLikeSignal(0.25, { seed: 3, sampleRate: 22_050 });
const right = speechLikeSignal(0.25, { seed: 4, sampleRate: 22_050 });

function file(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** A 16-bit WAV (44-byte header) with its data size at bytes 40..43 set to `dataSize`. */
function withDataSize(channels: Float32Array[], dataSize: number, riffSize?: number): Uint8Array {
  const bytes = concatBytes(encodeWav(channels, 22_050, 'pcm16', { ditherSeed: 1 }));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(40, dataSize, true);
  if (riffSize !== undefined) view.setUint32(4, riffSize, true);
  return bytes;
}

const lenient = { unsizedData: true };

describe('WAV data of unknown size', () => {
  it('reads what ffmpeg writes to a pipe (RIFF and data sizes 0xFFFFFFFF, a LIST chunk before the data), sample for sample', async () => {
    const source = file('source.wav', concatBytes(encodeWav([left, right], 22_050, 'pcm24')));
    const piped = execFileSync(requireFfmpeg(), ['-v', 'error', '-i', source, '-c:a', 'pcm_s24le', '-f', 'wav', '-'], { maxBuffer: 64 * 2 ** 20 });
    expect(piped.readUInt32LE(4)).toBe(0xffff_ffff);
    const path = file('piped.wav', piped);
    const expected = await readWavFile(source);
    expect(await readWavFile(path, lenient)).toEqual(expected);
    // The app's own files stay strict.
    await expect(readWavFile(path)).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringContaining('data chunk announces 4294967295 bytes') });
  });

  it('reads the samples after a data size of 0 (a recorder that stopped), whole frames only', async () => {
    const whole = withDataSize([left, right], 0, 36);
    const path = file('stopped.wav', concatBytes([whole, Uint8Array.of(7, 7, 7)])); // a partial frame at the end
    const read = await readWavFile(path, lenient);
    expect(read.channels).toEqual((await readWavFile(file('whole.wav', concatBytes(encodeWav([left, right], 22_050, 'pcm16', { ditherSeed: 1 }))))).channels);
    expect((await readWavFile(path)).channels[0].length).toBe(0); // strictly, the header says empty
  });

  it('reads a data size of 0xFFFFFFFF or past the end of the file (a copy cut short) as the frames present', async () => {
    const expected = (await readWavFile(file('mono.wav', concatBytes(encodeWav([left], 22_050, 'pcm16', { ditherSeed: 1 }))))).channels[0];
    const unknown = await readWavFile(file('unknown.wav', withDataSize([left], 0xffff_ffff)), lenient);
    expect(unknown.channels[0]).toEqual(expected);
    const cut = withDataSize([left], left.length * 2).subarray(0, 44 + 1001); // 500 frames and a half
    expect((await readWavFile(file('cut.wav', cut), lenient)).channels[0]).toEqual(expected.subarray(0, 500));
  });

  it('keeps refusing real damage: an empty data chunk followed by a chunk stays empty, a size of part frames is refused', async () => {
    const header = withDataSize([new Float32Array(0)], 0).subarray(0, 44);
    const list = Uint8Array.from([...'LIST'].map((c) => c.charCodeAt(0)).concat([4, 0, 0, 0, 1, 2, 3, 4]));
    expect((await readWavFile(file('empty-then-list.wav', concatBytes([header, list])), lenient)).channels[0].length).toBe(0);
    const partFrames = withDataSize([Float32Array.from([0.5, 0.25])], 3); // 3 bytes of 2-byte frames, followed by a byte
    await expect(readWavFile(file('part.wav', partFrames), lenient)).rejects.toMatchObject({ message: expect.stringContaining('data size 3 is not a whole number of 2-byte frames') });
  });
});
