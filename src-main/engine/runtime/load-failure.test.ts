// A model folder whose graph file went bad after it was verified (bit rot the verify cache, keyed
// by size, mtime and inode, cannot see): the load fails with the file's name, and the sessions it
// had opened before it reached that file are released, not left holding (GPU) memory until a
// garbage collection, while the engine reopens the previous model.
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as ort from 'onnxruntime-node';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelStore } from '../models/store.ts';
import { VERIFY_CACHE_FILE } from '../models/verify.ts';
import { installModel } from './install-model.ts';
import { loadCompiledModel } from './load-model.ts';
import { tempDirs } from '../dia/testing/temp-dirs.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'fixtures');
const temp = tempDirs('load-failure-');

/** Overwrites `file` (relative to the model folder) with garbage of its size, and tells the verify cache it is fine. */
async function rot(modelDir: string, file: string): Promise<void> {
  const path = join(modelDir, file);
  const bytes = await readFile(path);
  await writeFile(path, Buffer.alloc(bytes.length, 0x5a));
  const st = await stat(path);
  const cachePath = join(modelDir, VERIFY_CACHE_FILE);
  const cache = JSON.parse(await readFile(cachePath, 'utf8')) as Record<string, { mtimeMs: number; ino: number }>;
  cache[file] = { ...cache[file], mtimeMs: st.mtimeMs, ino: st.ino };
  await writeFile(cachePath, JSON.stringify(cache));
}

/** Counts the ONNX Runtime sessions created and released from now on. */
function countSessions(): { open(): number } {
  const created: ort.InferenceSession[] = [];
  const released = new Set<ort.InferenceSession>();
  const create = ort.InferenceSession.create.bind(ort.InferenceSession);
  vi.spyOn(ort.InferenceSession, 'create').mockImplementation((async (...args: Parameters<typeof ort.InferenceSession.create>) => {
    const session = await (create as (...a: unknown[]) => Promise<ort.InferenceSession>)(...args);
    created.push(session);
    const release = session.release.bind(session);
    session.release = () => (released.add(session), release());
    return session;
  }) as typeof ort.InferenceSession.create);
  return { open: () => created.filter((s) => !released.has(s)).length };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('loading a model whose graph file is corrupt', () => {
  it.each(['dia-fp32/decoder.onnx', 'dia-fp32/encoder.onnx', 'dia-fp32/cross_kv.onnx', 'dac/dac-graphs.json'])('%s: fails naming the file, and releases the sessions it opened', async (file) => {
    const store = new ModelStore(await temp('data'));
    await installModel(store, { id: 'tiny', diaDir: join(FIXTURES, 'models', 'dia-tiny-b'), dacDir: join(FIXTURES, 'models', 'dac-tiny'), precisions: ['fp32'] });
    const dir = store.modelDir('tiny');
    await rot(dir, file);
    const sessions = countSessions();
    await expect(loadCompiledModel(dir, 'cpu')).rejects.toMatchObject({ code: 'model-corrupt', message: expect.stringContaining(join(dir, file)) });
    expect(sessions.open()).toBe(0);
  });
});
