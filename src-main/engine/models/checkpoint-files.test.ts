// Which files make up a checkpoint, as the hub download and the folder import pick them.
import { describe, expect, it } from 'vitest';
import { selectCheckpointFiles } from './checkpoint-files.ts';

describe('selectCheckpointFiles', () => {
  it('leaves out dotfiles such as macOS AppleDouble "._" files when it takes every root *.safetensors', () => {
    const available = ['config.json', '._config.json', 'model-00001-of-00002.safetensors', '._model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors', '.hidden.safetensors', '.DS_Store'];
    expect(selectCheckpointFiles(available)).toEqual(['config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
  });

  it('prefers model.safetensors, then the shards an index names', () => {
    expect(selectCheckpointFiles(['config.json', 'model.safetensors', 'other.safetensors', 'generation_config.json']))
      .toEqual(['config.json', 'model.safetensors', 'generation_config.json']);
    expect(selectCheckpointFiles(['config.json', 'model.safetensors.index.json', 'a.safetensors', 'b.safetensors'], ['a.safetensors']))
      .toEqual(['config.json', 'model.safetensors.index.json', 'a.safetensors']);
  });
});
