import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFile, lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expectRejection } from '../../../src-shared/testing/app-errors.ts';
import { classifyConfig, selectCheckpointFiles } from './checkpoint-files.ts';
import { checkpointSourceRef, listCheckpoints, readCheckpointRecord, sourceRefDir } from './checkpoint-record.ts';
import { importCheckpoint, importPickedFolder, validateCheckpointDir } from './import.ts';
import { sha256 } from './test-support/fake-hub.ts';
import {
  DAC_DESCRIPT_CONFIG, DAC_TRANSFORMERS_CONFIG, DIA_NARI_CONFIG, DIA_TRANSFORMERS_CONFIG, buildSafetensors, shardedDiaCheckpoint, tinyDiaCheckpoint,
  type CheckpointFiles,
} from './test-support/tiny-checkpoint.ts';

let work: string;
let dataDir: string;

beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'dia-import-'));
  dataDir = path.join(work, 'data');
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function writeCheckpoint(name: string, files: CheckpointFiles): Promise<string> {
  const dir = path.join(work, name);
  await mkdir(dir, { recursive: true });
  for (const [file, bytes] of files) await writeFile(path.join(dir, file), bytes);
  return dir;
}

describe('classifyConfig', () => {
  it.each([
    ['transformers Dia', DIA_TRANSFORMERS_CONFIG, { kind: 'dia', format: 'transformers' }],
    ['original nari Dia', DIA_NARI_CONFIG, { kind: 'dia', format: 'nari' }],
    ['transformers DAC', DAC_TRANSFORMERS_CONFIG, { kind: 'dac', format: 'transformers' }],
    ['descript DAC', DAC_DESCRIPT_CONFIG, { kind: 'dac', format: 'descript' }],
  ])('recognises a %s config', (_label, config, expected) => {
    expect(classifyConfig(config, 'config.json')).toEqual(expected);
  });

  it.each([
    ['an array', []],
    ['a BERT config', { model_type: 'bert', hidden_size: 768 }],
    ['a Dia config without decoder_config', { model_type: 'dia', encoder_config: { hidden_size: 8, num_hidden_layers: 1 } }],
    ['a Dia config with a bad layer count', { ...DIA_TRANSFORMERS_CONFIG, decoder_config: { hidden_size: 32, num_hidden_layers: 0 } }],
    ['a DAC config with a string codebook size', { ...DAC_TRANSFORMERS_CONFIG, codebook_size: '1024' }],
    ['a nari config without data.channels', { ...DIA_NARI_CONFIG, data: {} }],
  ])('rejects %s naming the file', (_label, config) => {
    expect(() => classifyConfig(config, '/x/config.json')).toThrow(expect.objectContaining({ code: 'model-corrupt', message: expect.stringContaining('/x/config.json') }));
  });
});

describe('selectCheckpointFiles', () => {
  it('keeps config, weights and generation config, and ignores the rest', () => {
    expect(selectCheckpointFiles(['README.md', 'config.json', 'model.safetensors', 'dia-v0_1.pth', 'generation_config.json', 'sub/model.safetensors', 'model.fp16.safetensors']))
      .toEqual(['config.json', 'model.safetensors', 'generation_config.json']);
    expect(selectCheckpointFiles(['config.json', 'b.safetensors', 'a.safetensors'])).toEqual(['config.json', 'a.safetensors', 'b.safetensors']);
    expect(selectCheckpointFiles(['config.json', 'model.safetensors.index.json', 's1.safetensors', 'model.safetensors'], ['s1.safetensors']))
      .toEqual(['config.json', 'model.safetensors.index.json', 's1.safetensors']);
  });
});

describe('validateCheckpointDir', () => {
  it('accepts a sharded checkpoint and checks every shard against the index', async () => {
    const dir = await writeCheckpoint('sharded', shardedDiaCheckpoint());
    const ok = await validateCheckpointDir(dir);
    expect(ok.files).toContain('model-00002-of-00002.safetensors');
    const index = JSON.parse(await readFile(path.join(dir, 'model.safetensors.index.json'), 'utf8'));
    index.weight_map['model.decoder.extra'] = 'model-00002-of-00002.safetensors';
    await writeFile(path.join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
    await expectRejection(validateCheckpointDir(dir), 'model-corrupt', 'model.decoder.extra');
    await rm(path.join(dir, 'model-00001-of-00002.safetensors'));
    await expectRejection(validateCheckpointDir(dir), 'model-missing', 'model-00001-of-00002.safetensors');
  });

  it('rejects truncated, padded and garbled safetensors naming the file', async () => {
    const dir = await writeCheckpoint('bad', tinyDiaCheckpoint());
    const weights = path.join(dir, 'model.safetensors');
    const size = (await stat(weights)).size;
    await truncate(weights, size - 1);
    await expectRejection(validateCheckpointDir(dir), 'model-corrupt', weights);
    await writeFile(weights, Buffer.concat([buildSafetensors([{ name: 't', dtype: 'F32', shape: [4] }]), Buffer.from('extra')]));
    const padded = await expectRejection(validateCheckpointDir(dir), 'model-corrupt', weights);
    expect(padded.message).toContain('trailing data');
    await writeFile(weights, Buffer.concat([Buffer.from([9, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{not json')]));
    await expectRejection(validateCheckpointDir(dir), 'model-corrupt', weights);
  });

  it('rejects a folder without config or weights, and an unparsable config', async () => {
    const files = tinyDiaCheckpoint();
    const noConfig = new Map(files);
    noConfig.delete('config.json');
    await expectRejection(validateCheckpointDir(await writeCheckpoint('a', noConfig)), 'model-missing', 'config.json');
    const pth = new Map([['config.json', files.get('config.json')!], ['dia-v0_1.pth', Buffer.from('pickle')]]);
    const err = await expectRejection(validateCheckpointDir(await writeCheckpoint('b', pth)), 'model-missing', 'no .safetensors');
    expect(err.message).toContain('.pth');
    const garbled = new Map(files);
    garbled.set('config.json', Buffer.from('{"model_type": "dia",'));
    await expectRejection(validateCheckpointDir(await writeCheckpoint('c', garbled)), 'model-corrupt', path.join(work, 'c', 'config.json'));
    await expectRejection(validateCheckpointDir(path.join(work, 'nowhere')), 'model-missing', 'nowhere');
  });
});

describe('importCheckpoint', () => {
  it('hard-links a valid folder into the store with a record of its hashes', async () => {
    const files = tinyDiaCheckpoint();
    const src = await writeCheckpoint('Dia Local', files);
    const progress: number[] = [];
    const { id, dir, record } = await importCheckpoint({ sourceDir: src, dataDir, onProgress: (p) => progress.push(p.bytesDone) });
    expect(id).toBe('Dia-Local');
    expect(dir).toBe(path.join(dataDir, 'checkpoints', 'Dia-Local'));
    expect(record).toMatchObject({ kind: 'dia', configFormat: 'transformers', importedFrom: src });
    for (const f of record.files) expect(f.sha256).toBe(sha256(files.get(f.name)!));
    expect((await stat(path.join(dir, 'model.safetensors'))).ino).toBe((await stat(path.join(src, 'model.safetensors'))).ino);
    expect(progress.at(-1)).toBe(record.files.reduce((s, f) => s + f.size, 0));
    expect((await readCheckpointRecord(dir)).files).toEqual(record.files);
    const ref = checkpointSourceRef(dataDir, dir, record);
    expect(ref).toEqual({ dir: 'checkpoints/Dia-Local', files: record.files });
    expect(sourceRefDir(dataDir, ref)).toBe(dir);
  });

  it('follows the relative symlinks of a Hugging Face cache snapshot', async () => {
    const files = tinyDiaCheckpoint();
    const repo = path.join(work, 'hf-cache', 'models--nari-labs--Dia-tiny');
    const snapshot = path.join(repo, 'snapshots', 'abc123');
    await mkdir(path.join(repo, 'blobs'), { recursive: true });
    await mkdir(snapshot, { recursive: true });
    for (const [name, bytes] of files) {
      const blob = sha256(bytes);
      await writeFile(path.join(repo, 'blobs', blob), bytes);
      await symlink(path.join('..', '..', 'blobs', blob), path.join(snapshot, name));
    }
    const { dir, record } = await importCheckpoint({ sourceDir: snapshot, dataDir, id: 'dia-tiny' });
    for (const f of record.files) {
      expect((await lstat(path.join(dir, f.name))).isFile()).toBe(true);
      expect(await readFile(path.join(dir, f.name))).toEqual(files.get(f.name));
    }
  });

  it('copies when asked, and refuses to overwrite unless replacing', async () => {
    const src = await writeCheckpoint('dac', new Map([
      ['config.json', Buffer.from(JSON.stringify(DAC_DESCRIPT_CONFIG))],
      ['model.safetensors', buildSafetensors([{ name: 'decoder.model.0.weight_v', dtype: 'F32', shape: [16, 8] }])],
    ]));
    const first = await importCheckpoint({ sourceDir: src, dataDir, id: 'dac-44khz', mode: 'copy', expectKind: 'dac' });
    expect(first.record).toMatchObject({ kind: 'dac', configFormat: 'descript' });
    expect((await stat(path.join(first.dir, 'model.safetensors'))).ino).not.toBe((await stat(path.join(src, 'model.safetensors'))).ino);
    await expectRejection(importCheckpoint({ sourceDir: src, dataDir, id: 'dac-44khz' }), 'exists', 'dac-44khz');
    await appendFile(path.join(src, 'config.json'), '\n');
    const second = await importCheckpoint({ sourceDir: src, dataDir, id: 'dac-44khz', replace: true, mode: 'copy' });
    expect(second.record.files[0].sha256).not.toBe(first.record.files[0].sha256);
    // Only the finished checkpoint is left: no staging or aside folders.
    expect(await readdir(path.join(dataDir, 'checkpoints'))).toEqual(['dac-44khz']);
  });

  it('imports a picked folder again in place, and a same-named other folder under the next free id', async () => {
    const dacFiles = (width: number): CheckpointFiles => new Map([
      ['config.json', Buffer.from(JSON.stringify(DAC_DESCRIPT_CONFIG))],
      ['model.safetensors', buildSafetensors([{ name: 'decoder.model.0.weight_v', dtype: 'F32', shape: [16, width] }])],
    ]);
    const one = await writeCheckpoint('one/dac', dacFiles(8));
    const two = await writeCheckpoint('two/dac', dacFiles(4));
    const first = await importPickedFolder({ sourceDir: one, dataDir, expectKind: 'dac' });
    expect(first.id).toBe('dac');
    const again = await importPickedFolder({ sourceDir: one, dataDir, expectKind: 'dac' });
    expect(again.id).toBe('dac');
    const other = await importPickedFolder({ sourceDir: two, dataDir, expectKind: 'dac' });
    expect(other.id).toBe('dac-2');
    const weights = (r: typeof first.record) => r.files.find((f) => f.name === 'model.safetensors')!.sha256;
    expect(weights(other.record)).not.toBe(weights(first.record));
    // The first folder's copy is untouched by the second import.
    expect((await readCheckpointRecord(path.join(dataDir, 'checkpoints', 'dac'))).importedFrom).toBe(path.resolve(one));
    expect(await readdir(path.join(dataDir, 'checkpoints'))).toEqual(['dac', 'dac-2']);
  });

  it('leaves nothing behind when the folder is invalid or of the wrong kind', async () => {
    const files = tinyDiaCheckpoint();
    const src = await writeCheckpoint('dia', files);
    await expectRejection(importCheckpoint({ sourceDir: src, dataDir, expectKind: 'dac' }), 'invalid-input', 'DIA');
    await truncate(path.join(src, 'model.safetensors'), 100);
    await expectRejection(importCheckpoint({ sourceDir: src, dataDir }), 'model-corrupt', 'model.safetensors');
    expect(await listCheckpoints(dataDir)).toEqual([]);
    await expectRejection(importCheckpoint({ sourceDir: src, dataDir, id: '../escape' }), 'invalid-input', '../escape');
  });

  it('lists checkpoints and flags a damaged one', async () => {
    const src = await writeCheckpoint('dia', tinyDiaCheckpoint());
    const { dir } = await importCheckpoint({ sourceDir: src, dataDir, id: 'one', mode: 'copy' });
    await importCheckpoint({ sourceDir: src, dataDir, id: 'two', mode: 'copy' });
    await truncate(path.join(dir, 'model.safetensors'), 10);
    const listed = await listCheckpoints(dataDir);
    expect(listed.map((c) => [c.id, c.error?.code ?? null])).toEqual([['one', 'model-corrupt'], ['two', null]]);
    expect(listed[0].error!.message).toContain(path.join(dir, 'model.safetensors'));
  });
});
