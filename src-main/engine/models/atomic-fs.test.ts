// The shared "is anything there" check and the model store's file errors, on real files.
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rejectionOf } from '../../../src-shared/testing/app-errors.ts';
import { ioError, pathExists, writeFileAtomic } from './atomic-fs.ts';
import { swapInto } from './staging.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dia-atomic-fs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pathExists', () => {
  it('counts files, folders and dangling links as there, and only a missing name as free', async () => {
    await writeFile(path.join(dir, 'file'), 'x');
    await symlink(path.join(dir, 'gone'), path.join(dir, 'dangling'));
    expect(await pathExists(path.join(dir, 'file'))).toBe(true);
    expect(await pathExists(dir)).toBe(true);
    expect(await pathExists(path.join(dir, 'dangling'))).toBe(true);
    expect(await pathExists(path.join(dir, 'missing'))).toBe(false);
  });

  it('says why it cannot tell instead of calling the name free', async () => {
    await writeFile(path.join(dir, 'file'), 'x');
    const under = path.join(dir, 'file', 'x.wav');
    expect(await rejectionOf(pathExists(under))).toMatchObject({ code: 'io-failed', message: `Could not check ${under}: part of the path is a file, not a folder` });
  });
});

describe('writeFileAtomic errors', () => {
  it('words a folder in the way as every file error does, without naming its temp file', async () => {
    const target = path.join(dir, 'config.json');
    await mkdir(target);
    const err = await rejectionOf(writeFileAtomic(target, '{}'));
    expect(err).toMatchObject({ code: 'io-failed', message: `Could not write ${target}: it is a folder, not a file` });
  });

  it('words a path through a file as every file error does', async () => {
    await writeFile(path.join(dir, 'file'), 'KEEP');
    const target = path.join(dir, 'file', 'config.json');
    const err = await rejectionOf(writeFileAtomic(target, '{}'));
    expect(err).toMatchObject({ code: 'io-failed', message: `Could not write ${target}: part of the path is a file, not a folder` });
    expect(await readFile(path.join(dir, 'file'), 'utf8')).toBe('KEEP');
  });
});

describe('ioError', () => {
  it('words a missing path and a refusal without guessing at a missing folder or a read-only disk', async () => {
    // A move, a list or an open is no write: its missing path may be a file, and EPERM on a move
    // is a file in use on Windows, not a protected folder.
    const staging = path.join(dir, '.m.stage-1-0a1b2c3d'), dest = path.join(dir, 'm');
    expect(await rejectionOf(swapInto(staging, dest))).toMatchObject({ code: 'io-failed', message: `Could not move ${staging} to ${dest}: no such file` });
    const inUse = Object.assign(new Error(`EPERM: operation not permitted, rename '${dest}'`), { code: 'EPERM' });
    expect(ioError(inUse, `move aside ${dest}`)).toMatchObject({ code: 'io-failed', message: `Could not move aside ${dest}: permission denied` });
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    expect(ioError(full, `write ${dest}`)).toMatchObject({ code: 'disk-full', message: `Disk full: could not write ${dest}` });
  });
});
