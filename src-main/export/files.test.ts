import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StagedFiles } from './files.ts';

const root = mkdtempSync(join(tmpdir(), 'staged-files-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function freshDir(): string {
  const dir = join(root, `d${++n}`);
  mkdirSync(dir);
  return dir;
}
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('StagedFiles', () => {
  it('keeps files under hidden temp names until commit, then gives them their names', async () => {
    const dir = freshDir();
    const staged = await StagedFiles.open(dir, false);
    await staged.write('a.txt', [bytes('hello '), bytes('world')]);
    await staged.write('b.txt', [bytes('second')]);
    expect(readdirSync(dir).every((f) => f.startsWith('.') && f.endsWith('.partial'))).toBe(true);
    const files = await staged.commit();
    expect(files.map((f) => [f.name, f.bytes])).toEqual([['a.txt', 11], ['b.txt', 6]]);
    expect(readdirSync(dir).sort()).toEqual(['a.txt', 'b.txt']);
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('hello world');
  });

  it('writes a name as long as the file system allows, shortening only the temp name', async () => {
    const dir = freshDir();
    const staged = await StagedFiles.open(dir, true);
    const ascii = `${'x'.repeat(251)}.wav`;
    const cyrillic = `${'ж'.repeat(125)}.wav`; // 254 bytes
    await staged.write(ascii, [bytes('one')]);
    await staged.write(cyrillic, [bytes('two')]);
    const temps = readdirSync(dir);
    expect(temps.every((f) => Buffer.byteLength(f) <= 255 && f.startsWith('.') && f.endsWith('.partial'))).toBe(true);
    await staged.commit();
    expect(readdirSync(dir).sort()).toEqual([ascii, cyrillic].sort());
    expect(readFileSync(join(dir, cyrillic), 'utf8')).toBe('two');
  });

  it('removes the temp file when the data source fails or the write is cancelled midway', async () => {
    const dir = freshDir();
    const staged = await StagedFiles.open(dir, false);
    function* failing(): Generator<Uint8Array> {
      yield bytes('partial data');
      throw new Error('encoder crashed');
    }
    await expect(staged.write('x.wav', failing())).rejects.toMatchObject({ code: 'io-failed', message: expect.stringContaining(join(dir, 'x.wav')) });
    const controller = new AbortController();
    function* aborting(): Generator<Uint8Array> {
      yield bytes('first half');
      controller.abort();
      yield bytes('second half');
    }
    await expect(staged.write('y.wav', aborting(), controller.signal)).rejects.toMatchObject({ code: 'cancelled' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('does not replace a file that appeared after the check, and undoes its own files', async () => {
    const dir = freshDir();
    const staged = await StagedFiles.open(dir, false);
    await staged.refuseExisting(['a.txt', 'b.txt']);
    await staged.write('a.txt', [bytes('new a')]);
    await staged.write('b.txt', [bytes('new b')]);
    writeFileSync(join(dir, 'b.txt'), 'someone else');
    await expect(staged.commit()).rejects.toMatchObject({ code: 'exists', message: expect.stringContaining(join(dir, 'b.txt')) });
    expect(readdirSync(dir)).toEqual(['b.txt']);
    expect(readFileSync(join(dir, 'b.txt'), 'utf8')).toBe('someone else');
  });

  it('replaces existing files when overwriting is allowed', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'a.txt'), 'old');
    const staged = await StagedFiles.open(dir, true);
    await staged.refuseExisting(['a.txt']);
    await staged.write('a.txt', [bytes('new')]);
    await staged.commit();
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['a.txt']); // the previous file's keep-safe link is gone too
  });

  it('with overwrite, refuses a name held by a folder before any work, as a file cannot replace it', async () => {
    const dir = freshDir();
    mkdirSync(join(dir, 'b.srt'));
    const staged = await StagedFiles.open(dir, true);
    await expect(staged.refuseExisting(['a.wav', 'b.srt'])).rejects.toMatchObject({ code: 'exists', message: expect.stringContaining(`${join(dir, 'b.srt')} is a folder`) });
  });

  it('with overwrite, a failed final step puts back the files it had already replaced', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'a.wav'), 'old a');
    writeFileSync(join(dir, 'b.srt'), 'old b');
    const staged = await StagedFiles.open(dir, true);
    await staged.refuseExisting(['a.wav', 'b.srt', 'c.vtt']);
    await staged.write('c.vtt', [bytes('new c')]);
    await staged.write('a.wav', [bytes('new a')]);
    await staged.write('b.srt', [bytes('new b')]);
    // Something takes b.srt's name after the check (on Windows: a player holding the file open).
    rmSync(join(dir, 'b.srt'));
    mkdirSync(join(dir, 'b.srt'));
    await expect(staged.commit()).rejects.toMatchObject({ code: 'io-failed', message: expect.stringContaining(join(dir, 'b.srt')) });
    expect(readdirSync(dir).sort()).toEqual(['a.wav', 'b.srt']);
    expect(readFileSync(join(dir, 'a.wav'), 'utf8')).toBe('old a');
  });

  it("removes its own temp files that a crash left over an hour ago, and nothing else", async () => {
    const dir = freshDir();
    const hoursAgo = (h: number): Date => new Date(Date.now() - h * 3_600_000);
    const make = (name: string, age: number): void => {
      writeFileSync(join(dir, name), 'x');
      utimesSync(join(dir, name), hoursAgo(age), hoursAgo(age));
    };
    make('.Play.wav.0123456789ab.partial', 2); // a crashed export's: goes
    make('.Play.wav.fedcba987654.partial', 0.5); // maybe another export still writing: stays
    make('.Play.wav.partial', 2); // not this exporter's pattern
    make('Play.wav.0123456789ab.partial', 2); // not hidden
    make('.diaproj-0123456789ab.partial', 2); // a project file's temp, not an export's
    make('old.wav', 48);
    mkdirSync(join(dir, '.dir.0123456789ab.partial'));
    const staged = await StagedFiles.open(dir, false);
    await staged.write('a.txt', [bytes('new')]);
    await staged.commit();
    expect(readdirSync(dir).sort()).toEqual(
      ['.Play.wav.fedcba987654.partial', '.Play.wav.partial', 'Play.wav.0123456789ab.partial', '.diaproj-0123456789ab.partial', 'old.wav', '.dir.0123456789ab.partial', 'a.txt'].sort(),
    );
  });

  it('refuses a destination that is a file', async () => {
    const file = join(freshDir(), 'plain.txt');
    writeFileSync(file, '');
    await expect(StagedFiles.open(file, false)).rejects.toMatchObject({ code: 'io-failed', message: expect.stringContaining('it is a file, not a folder') });
  });
});

describe('StagedFiles with create', () => {
  it('creates missing folders, and its clean-up removes only those it made while they are empty', async () => {
    const base = freshDir();
    const made = await StagedFiles.open(join(base, 'a', 'b', 'c'), false, undefined, true);
    expect(existsSync(join(base, 'a', 'b', 'c'))).toBe(true);
    writeFileSync(join(base, 'a', 'keep.txt'), 'appeared meanwhile');
    await made.discard();
    expect(readdirSync(join(base, 'a'))).toEqual(['keep.txt']);

    const none = await StagedFiles.open(base, false, undefined, true);
    await none.discard();
    expect(existsSync(base)).toBe(true);
    await expect(StagedFiles.open(join(base, 'a', 'keep.txt'), false, undefined, true)).rejects.toMatchObject({ code: 'io-failed', message: expect.stringContaining('it is a file, not a folder') });
    await expect(StagedFiles.open(join(base, 'a', 'keep.txt', 'x'), false, undefined, true)).rejects.toMatchObject({ code: 'io-failed', message: expect.stringContaining('part of the path is a file, not a folder') });
  });
});
