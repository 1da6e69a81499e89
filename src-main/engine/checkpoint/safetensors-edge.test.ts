// Safetensors files that are valid but unusual: tensors in dtypes this reader does not convert
// (fp8, unsigned, sub-byte), and a file that changes under an open handle.
import { describe, expect, it } from 'vitest';
import { truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SafetensorsFile } from './safetensors.ts';
import { writeSafetensors } from './safetensors-writer.ts';
import { expectRejection } from '../../../src-shared/testing/app-errors.ts';
import { tempDirs } from '../dia/testing/temp-dirs.ts';

const temp = tempDirs('st-edge-');

function rawFile(header: unknown, dataBytes: number): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, Buffer.alloc(dataBytes, 0x3c)]);
}

describe('safetensors dtypes the reader does not convert', () => {
  it('opens the file, reads the other tensors, and refuses those tensors by name and dtype', async () => {
    const path = join(await temp(), 'mixed.safetensors');
    await writeFile(path, rawFile({
      scale: { dtype: 'F8_E4M3', shape: [4], data_offsets: [0, 4] },
      ids: { dtype: 'U16', shape: [2], data_offsets: [4, 8] },
      packed: { dtype: 'F4', shape: [4], data_offsets: [8, 10] },
      w: { dtype: 'F32', shape: [2], data_offsets: [12, 20] },
    }, 20));
    const file = await SafetensorsFile.open(path);
    try {
      expect(file.info('scale')).toMatchObject({ dtype: 'F8_E4M3', shape: [4], byteLength: 4 });
      expect(file.info('packed').byteLength).toBe(2);
      expect((await file.readFloat32('w')).length).toBe(2);
      const err = await expectRejection(file.readFloat32('scale'), 'model-mismatch', 'scale');
      expect(err.message).toContain('F8_E4M3');
      await expectRejection(file.readInt32('ids'), 'model-mismatch', /ids.*U16/);
    } finally {
      await file.close();
    }
  });

  it('still checks the offsets of such tensors against their size', async () => {
    const path = join(await temp(), 'short.safetensors');
    await writeFile(path, rawFile({ scale: { dtype: 'F8_E5M2', shape: [4], data_offsets: [0, 8] } }, 8));
    await expectRejection(SafetensorsFile.open(path), 'model-corrupt', /scale data_offsets do not match its shape/);
  });
});

describe('a file that changes after it was opened', () => {
  it('names the file and the tensor when a read runs past its end', async () => {
    const path = join(await temp(), 'shrinks.safetensors');
    await writeSafetensors(path, [
      { name: 'a', dtype: 'F32', shape: [16], data: new Float32Array(16) },
      { name: 'b', dtype: 'F32', shape: [16], data: new Float32Array(16) },
    ]);
    const file = await SafetensorsFile.open(path);
    try {
      await truncate(path, file.info('b').offset + 8);
      const err = await expectRejection(file.readFloat32('b'), 'model-corrupt', path);
      expect(err.message).toContain('tensor b');
    } finally {
      await file.close();
    }
  });
});
