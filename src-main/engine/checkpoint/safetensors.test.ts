import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsFile, readSafetensorsFile } from './safetensors.ts';
import { writeSafetensors } from './safetensors-writer.ts';
import { rejectionOf } from '../../../src-shared/testing/app-errors.ts';
import { floatToHalfBits, halfBitsToFloat, float32ToBfloat16, bfloat16ToFloat32 } from './half.ts';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'st-test-'));
}

describe('safetensors', () => {
  it('round-trips F32, F16, BF16 and I32 tensors', async () => {
    const dir = await tempDir();
    const path = join(dir, 'm.safetensors');
    const a = Float32Array.from({ length: 12 }, (_, i) => (i - 5) * 0.25);
    const ids = Int32Array.from([1, -2, 3, 1 << 20]);
    await writeSafetensors(path, [
      { name: 'a', dtype: 'F32', shape: [3, 4], data: a },
      { name: 'h', dtype: 'F16', shape: [12], data: a },
      { name: 'b', dtype: 'BF16', shape: [2, 6], data: () => a },
      { name: 'ids', dtype: 'I32', shape: [4], data: ids },
    ], { format: 'pt' });
    const raw = await readFile(path);
    expect(Number(raw.readBigUInt64LE(0)) % 8).toBe(0);
    const t = await readSafetensorsFile(path);
    expect(Array.from(t.get('a')!.data)).toEqual(Array.from(a));
    expect(Array.from(t.get('h')!.data)).toEqual(Array.from(a)); // quarter steps are exact in fp16
    expect(Array.from(t.get('b')!.data)).toEqual(Array.from(a));
    expect(Array.from(t.get('ids')!.data)).toEqual(Array.from(ids));
    expect(t.get('a')!.shape).toEqual([3, 4]);
    const f = await SafetensorsFile.open(path);
    expect(f.metadata.format).toBe('pt');
    await f.close();
  });

  it('rejects truncated files and bad headers with model-corrupt naming the file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'm.safetensors');
    await writeSafetensors(path, [{ name: 'a', dtype: 'F32', shape: [64], data: new Float32Array(64) }]);
    const { size } = await import('node:fs/promises').then((m) => m.stat(path));
    await truncate(path, size - 4);
    await expect(SafetensorsFile.open(path)).rejects.toMatchObject({ code: 'model-corrupt', message: expect.stringContaining(path) });
    const bad = join(dir, 'bad.safetensors');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(5n);
    await writeFile(bad, Buffer.concat([len, Buffer.from('{nope')]));
    await expect(SafetensorsFile.open(bad)).rejects.toMatchObject({ code: 'model-corrupt' });
    await expect(SafetensorsFile.open(join(dir, 'missing.safetensors'))).rejects.toMatchObject({ code: 'model-missing' });
  });

  it('rejects malformed header entries and overlapping tensors with model-corrupt naming the file', async () => {
    const dir = await tempDir();
    const file = (header: unknown, dataBytes: number): Buffer => {
      const json = Buffer.from(JSON.stringify(header));
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(json.length));
      return Buffer.concat([len, json, Buffer.alloc(dataBytes, 1)]);
    };
    const cases: Array<[string, unknown, number, RegExp]> = [
      ['null header', null, 0, /header is not a JSON object/],
      ['array header', [1], 0, /header is not a JSON object/],
      ['null entry', { w: null }, 0, /tensor w is not an object/],
      ['metadata not an object', { __metadata__: 7, w: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } }, 1, /__metadata__/],
      ['string offsets', { w: { dtype: 'F32', shape: [1], data_offsets: ['0', '4'] } }, 4, /tensor w has bad data_offsets/],
      ['fractional offsets', { w: { dtype: 'U8', shape: [4], data_offsets: [0.5, 4.5] } }, 5, /tensor w has bad data_offsets/],
      ['reversed offsets', { w: { dtype: 'U8', shape: [0], data_offsets: [4, 0] } }, 4, /tensor w has bad data_offsets/],
      ['inherited dtype name', { w: { dtype: 'constructor', shape: [1], data_offsets: [0, 4] } }, 4, /unsupported dtype constructor/],
      ['overlap', { w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, v: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, 16, /tensors [wv] and [wv] overlap/],
    ];
    for (const [what, header, dataBytes, why] of cases) {
      const path = join(dir, `${what.replace(/ /g, '-')}.safetensors`);
      await writeFile(path, file(header, dataBytes));
      const err = await rejectionOf(SafetensorsFile.open(path));
      expect({ what, code: err.code }).toEqual({ what, code: 'model-corrupt' });
      expect(err.message).toContain(path);
      expect(err.message).toMatch(why);
    }
    // Tensors that only touch (and an empty one anywhere) are fine, as is null metadata.
    const ok = join(dir, 'ok.safetensors');
    await writeFile(ok, file({ __metadata__: null, a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] }, b: { dtype: 'U8', shape: [2], data_offsets: [2, 4] }, e: { dtype: 'F32', shape: [0], data_offsets: [2, 2] } }, 4));
    const f = await SafetensorsFile.open(ok);
    expect([...f.tensors.keys()].sort()).toEqual(['a', 'b', 'e']);
    await f.close();
  });

  it('names a missing tensor', async () => {
    const dir = await tempDir();
    const path = join(dir, 'm.safetensors');
    await writeSafetensors(path, [{ name: 'a', dtype: 'F32', shape: [1], data: new Float32Array(1) }]);
    const f = await SafetensorsFile.open(path);
    await expect(f.readFloat32('b')).rejects.toMatchObject({ code: 'model-mismatch', message: expect.stringContaining('b') });
    await f.close();
  });
});

describe('half precision conversions', () => {
  it('fp16 round-trips every finite half value and rounds to nearest even', () => {
    for (let h = 0; h < 0x7c00; h++) {
      expect(floatToHalfBits(halfBitsToFloat(h))).toBe(h);
      expect(floatToHalfBits(-halfBitsToFloat(h))).toBe(h | 0x8000);
    }
    expect(floatToHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(floatToHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(floatToHalfBits(70000)).toBe(0x7c00);
    expect(Number.isNaN(halfBitsToFloat(floatToHalfBits(NaN)))).toBe(true);
  });

  it('bf16 keeps the top bits with rounding', () => {
    const x = Float32Array.from([1, -2.5, 3.14159, 1e-30, 65504]);
    const back = bfloat16ToFloat32(float32ToBfloat16(x));
    for (let i = 0; i < x.length; i++) expect(Math.abs(back[i] - x[i])).toBeLessThanOrEqual(Math.abs(x[i]) * 2 ** -8);
  });
});
