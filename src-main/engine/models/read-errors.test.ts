// A model, checkpoint or codec file that cannot be read is reported in words ("it is a folder,
// not a file"), as an AppError naming the file, never as Node's raw "EISDIR: illegal operation".
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { rejectionOf } from '../../../src-shared/testing/app-errors.ts';
import { readDacConfig } from '../dac/dac-config.ts';
import { readJson } from '../checkpoint/json-file.ts';
import { sha256File } from './hash.ts';
import { MANIFEST_FILE } from './manifest.ts';
import { readManifest, verifyModel } from './verify.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dia-read-errors-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('unreadable model files', () => {
  it('a manifest that is a folder is named and explained', async () => {
    const manifest = path.join(dir, MANIFEST_FILE);
    await mkdir(manifest);
    const err = await rejectionOf(readManifest(dir));
    expect(err).toMatchObject({ code: 'io-failed', message: `Cannot read model manifest ${manifest}: it is a folder, not a file` });
  });

  it('a model file under a path that runs through a file is explained', async () => {
    await writeFile(path.join(dir, 'sub'), 'not a folder');
    const manifest = {
      formatVersion: 1, compilerVersion: '1', flavour: '0626', precisions: ['fp32'], createdAt: new Date(0).toISOString(),
      source: { files: [{ name: 'config.json', size: 1, sha256: 'a'.repeat(64) }] },
      graphs: [{ name: 'encoder', file: 'sub/encoder.onnx', size: 1, sha256: 'b'.repeat(64) }],
    };
    await writeFile(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest));
    const err = await rejectionOf(verifyModel(dir));
    expect(err).toMatchObject({ code: 'io-failed', message: `Cannot read ${path.join(dir, 'sub', 'encoder.onnx')}: part of the path is a file, not a folder` });
  });

  it('hashing a folder is explained', async () => {
    const err = await rejectionOf(sha256File(dir));
    expect(err).toMatchObject({ code: 'io-failed', message: `Cannot read ${dir}: it is a folder, not a file` });
  });

  it('a checkpoint JSON file that is a folder is explained', async () => {
    const file = path.join(dir, 'config.json');
    await mkdir(file);
    const err = await rejectionOf(readJson(file));
    expect(err).toMatchObject({ code: 'io-failed', message: `Cannot read ${file}: it is a folder, not a file` });
  });

  it('a codec config.json that is a folder is explained', async () => {
    const file = path.join(dir, 'config.json');
    await mkdir(file);
    const err = await rejectionOf(readDacConfig(dir));
    expect(err).toMatchObject({ code: 'io-failed', message: `Cannot read ${file}: it is a folder, not a file` });
  });
});
