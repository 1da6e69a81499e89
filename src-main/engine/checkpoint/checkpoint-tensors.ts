// All tensors of a checkpoint folder behind one name lookup: a single model.safetensors, the shards
// listed by model.safetensors.index.json, or (failing both) every *.safetensors at the root but dotfiles.
// Files are opened lazily by SafetensorsFile, so only headers are read up front.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../../src-shared/errors.ts';
import { SafetensorsFile, type TensorInfo } from './safetensors.ts';

const SINGLE = 'model.safetensors';
const INDEX = 'model.safetensors.index.json';

export interface LocatedTensor extends TensorInfo {
  file: string;
}

function isPlainName(name: string): boolean {
  return name.length > 0 && !name.includes('/') && !name.includes('\\') && name !== '.' && name !== '..';
}

async function shardNames(dir: string): Promise<string[]> {
  const entries = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new AppError('model-missing', `Checkpoint folder not found: ${dir}`, { cause: err });
    throw new AppError('io-failed', `Cannot list ${dir}: ${err.message}`, { cause: err });
  });
  if (entries.includes(INDEX)) {
    const file = join(dir, INDEX);
    let index: unknown;
    try {
      index = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      throw new AppError('model-corrupt', `${file} is not readable JSON: ${(err as Error).message}`, { cause: err });
    }
    const map = (index as { weight_map?: unknown } | null)?.weight_map;
    if (typeof map !== 'object' || map === null) throw new AppError('model-corrupt', `${file} has no weight_map object`);
    const shards = new Set<string>();
    for (const [tensor, shard] of Object.entries(map)) {
      if (typeof shard !== 'string' || !isPlainName(shard)) throw new AppError('model-corrupt', `${file} maps ${tensor} to an invalid shard name ${JSON.stringify(shard)}`);
      shards.add(shard);
    }
    if (shards.size === 0) throw new AppError('model-corrupt', `${file} lists no shards`);
    return [...shards].sort();
  }
  if (entries.includes(SINGLE)) return [SINGLE];
  const any = rootWeightFiles(entries);
  if (any.length === 0) throw new AppError('model-missing', `No .safetensors weights in ${dir}`);
  return any;
}

/**
 * The weights of a checkpoint without an index or model.safetensors: every *.safetensors but
 * dotfiles (macOS leaves AppleDouble "._<name>" files beside every file it copies to a non-Apple
 * volume, and those hold no weights), sorted.
 */
export function rootWeightFiles(names: Iterable<string>): string[] {
  return [...names].filter((n) => n.endsWith('.safetensors') && !n.startsWith('.')).sort();
}

export class CheckpointTensors {
  readonly dir: string;
  private readonly files: SafetensorsFile[];
  private readonly byName = new Map<string, { file: SafetensorsFile; info: TensorInfo }>();

  private constructor(dir: string, files: SafetensorsFile[]) {
    this.dir = dir;
    this.files = files;
    for (const file of files) {
      for (const info of file.tensors.values()) {
        const prev = this.byName.get(info.name);
        if (prev) throw new AppError('model-corrupt', `Tensor ${info.name} appears in both ${prev.file.path} and ${file.path}`);
        this.byName.set(info.name, { file, info });
      }
    }
  }

  static async open(dir: string): Promise<CheckpointTensors> {
    const names = await shardNames(dir);
    const files: SafetensorsFile[] = [];
    try {
      for (const name of names) files.push(await SafetensorsFile.open(join(dir, name)));
      return new CheckpointTensors(dir, files);
    } catch (err) {
      await Promise.all(files.map((f) => f.close()));
      throw err;
    }
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Header facts for a tensor, or undefined when no file holds it. */
  find(name: string): LocatedTensor | undefined {
    const hit = this.byName.get(name);
    return hit ? { ...hit.info, file: hit.file.path } : undefined;
  }

  async readFloat32(name: string): Promise<Float32Array> {
    const hit = this.byName.get(name);
    if (!hit) throw new AppError('model-mismatch', `Tensor ${name} is missing from the checkpoint in ${this.dir}`);
    return hit.file.readFloat32(name);
  }

  async close(): Promise<void> {
    await Promise.all(this.files.map((f) => f.close()));
  }
}
