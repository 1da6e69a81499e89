// Reading a checkpoint's JSON files (config.json, shard indexes) with errors that name the file:
// missing -> model-missing, unreadable -> io-failed, not JSON -> model-corrupt.
import { readFile } from 'node:fs/promises';
import { AppError } from '../../../src-shared/errors.ts';
import { cannotRead } from '../../read-error.ts';

export async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError('model-missing', `Missing ${file}`, { cause: err });
    throw cannotRead(file, err);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AppError('model-corrupt', `${file} is not valid JSON`);
  }
}
