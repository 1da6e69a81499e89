// CheckpointTensors on a folder without model.safetensors or an index: every root *.safetensors
// is a shard, except the dotfiles a copy from macOS leaves beside them.
import { describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointTensors } from './checkpoint-tensors.ts';
import { tempDirs } from '../dia/testing/temp-dirs.ts';
import { buildSafetensors } from '../models/test-support/tiny-checkpoint.ts';

const temp = tempDirs('checkpoint-tensors-');

/** What macOS writes beside a file on a non-Apple volume: an AppleDouble header, not safetensors. */
const APPLE_DOUBLE = Buffer.concat([Buffer.from([0x00, 0x05, 0x16, 0x07, 0x00, 0x02, 0x00, 0x00]), Buffer.alloc(4088)]);

describe('CheckpointTensors', () => {
  it('ignores AppleDouble "._*.safetensors" and other dotfiles beside the shards', async () => {
    const dir = await temp('dotfiles');
    await writeFile(join(dir, 'part-1.safetensors'), buildSafetensors([{ name: 'a.weight', dtype: 'F32', shape: [2, 3] }], 1));
    await writeFile(join(dir, 'part-2.safetensors'), buildSafetensors([{ name: 'b.weight', dtype: 'F32', shape: [4] }], 2));
    await writeFile(join(dir, '._part-1.safetensors'), APPLE_DOUBLE);
    await writeFile(join(dir, '.partial.safetensors'), Buffer.from('not a checkpoint'));
    const tensors = await CheckpointTensors.open(dir);
    try {
      expect(tensors.names.sort()).toEqual(['a.weight', 'b.weight']);
      expect(tensors.find('a.weight')?.file).toBe(join(dir, 'part-1.safetensors'));
      expect(await tensors.readFloat32('b.weight')).toHaveLength(4);
    } finally {
      await tensors.close();
    }
  });

  it('still reports a folder with only dotfile weights as having no weights', async () => {
    const dir = await temp('only-dotfiles');
    await writeFile(join(dir, '._model.safetensors'), APPLE_DOUBLE);
    await expect(CheckpointTensors.open(dir)).rejects.toMatchObject({ code: 'model-missing' });
  });
});
