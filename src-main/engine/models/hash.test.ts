import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hashFileInto, sha256File } from './hash.ts';

describe('sha256File', () => {
  it('matches the known vector and a one-shot hash across chunk boundaries', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dia-hash-'));
    try {
      const abc = path.join(dir, 'abc');
      await writeFile(abc, 'abc');
      for (const chunkBytes of [1, 2, 64]) {
        expect((await sha256File(abc, { chunkBytes })).sha256).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      }

      const data = Buffer.from(Array.from({ length: 10_007 }, (_, i) => (i * 31) & 0xff));
      const file = path.join(dir, 'data');
      await writeFile(file, data);
      const expected = createHash('sha256').update(data).digest('hex');
      const seen: number[] = [];
      for (const chunkBytes of [7, 4096, 10_007, 1 << 20]) {
        expect(await sha256File(file, { chunkBytes, onProgress: (n) => seen.push(n) })).toEqual({ sha256: expected, size: data.length });
      }
      expect(seen.at(-1)).toBe(data.length);

      const prefix = createHash('sha256');
      expect(await hashFileInto(prefix, file, { length: 500, chunkBytes: 64 })).toBe(500);
      expect(prefix.digest('hex')).toBe(createHash('sha256').update(data.subarray(0, 500)).digest('hex'));

      await expect(sha256File(path.join(dir, 'missing'))).rejects.toMatchObject({ code: 'model-missing' });
      await expect(hashFileInto(createHash('sha256'), file, { length: data.length + 1 })).rejects.toMatchObject({ code: 'model-corrupt' });
      const aborted = AbortSignal.abort();
      await expect(sha256File(file, { signal: aborted })).rejects.toMatchObject({ code: 'cancelled' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
