// The folder lock: one holder at a time across processes, a lock left by a dead process (or by an
// earlier process that had this pid, as in a restarted container) taken over, a live one respected.
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { acquireLock } from './process-lock.ts';
import { PROCESS_TAG } from './atomic-fs.ts';

const dir = mkdtempSync(join(tmpdir(), 'process-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('acquireLock', () => {
  it('gives the lock to one caller at a time and takes it again once released', async () => {
    const lock = join(dir, 'a.lock');
    const tries = await Promise.allSettled(Array.from({ length: 8 }, () => acquireLock(lock, 'Work')));
    const got = tries.filter((t): t is PromiseFulfilledResult<() => Promise<void>> => t.status === 'fulfilled');
    expect(got).toHaveLength(1);
    for (const t of tries) if (t.status === 'rejected') expect(t.reason).toMatchObject({ code: 'exists', message: expect.stringMatching(/Work is already running in this process/) });
    expect(readFileSync(lock, 'utf8')).toBe(`${process.pid} ${PROCESS_TAG}`);
    await got[0].value();
    expect(existsSync(lock)).toBe(false);
    await (await acquireLock(lock, 'Work'))();
  });

  it('takes over a lock of a dead process, and of an earlier process that had this pid', async () => {
    const lock = join(dir, 'b.lock');
    writeFileSync(lock, '2147483646'); // no such process (an older version's pid-only lock)
    await (await acquireLock(lock, 'Work'))();
    writeFileSync(lock, `${process.pid} 00000000-0000-0000-0000-000000000000`);
    await (await acquireLock(lock, 'Work'))();
  });

  it('respects a lock of a live process, and an empty lock still being written', async () => {
    const lock = join(dir, 'c.lock');
    writeFileSync(lock, `${process.ppid} some-token`);
    await expect(acquireLock(lock, 'Work')).rejects.toMatchObject({ code: 'exists', message: expect.stringContaining(`pid ${process.ppid}`) });
    writeFileSync(lock, '');
    await expect(acquireLock(lock, 'Work')).rejects.toMatchObject({ code: 'exists', message: expect.stringMatching(/in another process, which is starting it/) });
    rmSync(lock);
  });

  it('never lets two processes hold it at once', async () => {
    const lock = join(dir, 'd.lock');
    const log = join(dir, 'd.log');
    const child = `
      import { appendFileSync } from 'node:fs';
      import { acquireLock } from ${JSON.stringify(join(import.meta.dirname, 'process-lock.ts'))};
      for (let i = 0; i < 40; i++) {
        try {
          const release = await acquireLock(${JSON.stringify(lock)}, 'Work');
          appendFileSync(${JSON.stringify(log)}, 'in\\n');
          await new Promise((r) => setTimeout(r, 2));
          appendFileSync(${JSON.stringify(log)}, 'out\\n');
          await release();
        } catch (err) {
          if (err.code !== 'exists') throw err;
        }
      }`;
    await Promise.all(Array.from({ length: 4 }, () => promisify(execFile)(process.execPath, ['--input-type=module', '-e', child])));
    const events = readFileSync(log, 'utf8').trim().split('\n');
    expect(events.length).toBeGreaterThan(0);
    // Holders never overlap: "in" and "out" strictly alternate.
    events.forEach((e, i) => expect(e, `event ${i}`).toBe(i % 2 === 0 ? 'in' : 'out'));
  });
});
