// Loads the Dia golden vectors written by tools/make_golden.py (contract: fixtures/GOLDEN.md):
// fixtures/golden/<name>.safetensors (F32 floats, I32 ints) + <name>.json (settings).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../../src-shared/errors.ts';
import { readSafetensorsFile, type LoadedTensor } from '../checkpoint/safetensors.ts';

export interface GoldenTensor {
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface DiaGolden {
  name: string;
  settings: Record<string, unknown>;
  tensors: Map<string, GoldenTensor>;
  get(name: string): GoldenTensor;
  floats(name: string): Float32Array;
  ints(name: string): Int32Array;
}

export function fixturesRoot(): string {
  return join(import.meta.dirname, '..', '..', '..', 'fixtures');
}

export function diaFixtureModelDir(name: string): string {
  return join(fixturesRoot(), 'models', name);
}

export async function loadDiaGolden(name: string, root = fixturesRoot()): Promise<DiaGolden> {
  const base = join(root, 'golden', name);
  const raw = await readSafetensorsFile(`${base}.safetensors`);
  let settings: Record<string, unknown> = {};
  try {
    settings = JSON.parse(await readFile(`${base}.json`, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new AppError('model-corrupt', `${base}.json is not readable JSON`, { cause: err });
  }
  const tensors = new Map<string, GoldenTensor>([...raw].map(([k, t]: [string, LoadedTensor]) => [k, { shape: t.shape, data: t.data as Float32Array | Int32Array }]));
  const get = (key: string): GoldenTensor => {
    const t = tensors.get(key);
    if (!t) throw new AppError('model-mismatch', `Golden file ${base}.safetensors has no tensor ${key}`);
    return t;
  };
  return {
    name,
    settings,
    tensors,
    get,
    floats: (key) => {
      const t = get(key);
      if (!(t.data instanceof Float32Array)) throw new AppError('model-mismatch', `Golden tensor ${key} in ${base}.safetensors is not a float tensor`);
      return t.data;
    },
    ints: (key) => {
      const t = get(key);
      if (!(t.data instanceof Int32Array)) throw new AppError('model-mismatch', `Golden tensor ${key} in ${base}.safetensors is not an integer tensor`);
      return t.data;
    },
  };
}
