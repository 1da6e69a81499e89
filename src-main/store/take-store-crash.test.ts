// Crash safety: a child writing takes is SIGKILLed at random points, many times over. After every
// kill the cache must open without being moved aside, pass integrity_check, and hold every take
// the child reported as committed, bit-exact.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { floatToPcm24, pcmSha256 } from './pcm.ts';
import { TAKE_CACHE_FILE } from './take-schema.ts';
import { openTakeStore } from './take-store.ts';
import { removeTempDirs, seededRandom, tempDir } from './testing.ts';

afterAll(removeTempDirs);

const WRITER = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));
const ITERATIONS = 25;

interface KillResult {
  committed: Map<string, string>;
  killedBeforeReady: boolean;
}

/** Runs the writer and kills it `delayMs` after it is ready (or after spawn, when `early`). */
function runAndKill(dir: string, firstSeed: number, delayMs: number, early: boolean): Promise<KillResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, dir, String(firstSeed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const committed = new Map<string, string>();
    let ready = false;
    let buffered = '';
    let stderr = '';
    const kill = (): void => void child.kill('SIGKILL');
    if (early) setTimeout(kill, delayMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line === 'ready') {
          ready = true;
          if (!early) setTimeout(kill, delayMs);
        } else {
          const [word, key, sha] = line.split(' ');
          if (word !== 'committed') return reject(new Error(`unexpected writer output: ${line}`));
          committed.set(key, sha);
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited on its own (code ${code}): ${stderr}`));
      else resolve({ committed, killedBeforeReady: !ready });
    });
  });
}

describe('take cache crash safety', () => {
  it(`survives at least ${ITERATIONS} SIGKILLs at random points without losing a committed take`, { timeout: 360_000 }, async () => {
    const dir = tempDir('dia-crash-');
    const rand = seededRandom(20_240_611);
    const allCommitted = new Map<string, string>();
    let killsMidWrite = 0;
    // Enough kills must land while takes are being written, or the test proves little. On a busy
    // machine a writer may commit nothing before its kill: then more rounds run, up to a bound.
    const provedEnough = (): boolean => killsMidWrite > ITERATIONS / 4 && allCommitted.size > ITERATIONS;
    for (let i = 0; i < ITERATIONS || (!provedEnough() && i < 3 * ITERATIONS); i++) {
      // One run in five is killed while still starting up (opening, migrating); the others while writing.
      const early = i % 5 === 0;
      const delay = early ? rand() * 400 : 10 + rand() * 190;
      const { committed, killedBeforeReady } = await runAndKill(dir, (i + 1) * 100_000, delay, early);
      if (!killedBeforeReady && committed.size > 0) killsMidWrite++;
      for (const [k, v] of committed) allCommitted.set(k, v);

      const raw = new Database(join(dir, TAKE_CACHE_FILE));
      expect(raw.pragma('integrity_check', { simple: true }), `after kill ${i}`).toBe('ok');
      raw.close();

      const store = await openTakeStore(dir);
      try {
        expect(store.recovery, `after kill ${i}`).toBeNull();
        expect(store.stats().takeCount).toBeGreaterThanOrEqual(allCommitted.size);
        for (const [key, sha] of committed) {
          const take = store.findTake(key);
          expect(take, `take ${key} committed before kill ${i}`).not.toBeNull();
          expect(pcmSha256(floatToPcm24(store.readAudio(take!.id)))).toBe(sha);
        }
      } finally {
        store.close();
      }
    }
    expect(killsMidWrite).toBeGreaterThan(ITERATIONS / 4);
    expect(allCommitted.size).toBeGreaterThan(ITERATIONS);

    // Finally every committed take is still there, and every stored take (reported or not) decodes.
    const store = await openTakeStore(dir);
    try {
      for (const [key, sha] of allCommitted) expect(pcmSha256(floatToPcm24(store.readAudio(store.findTake(key)!.id)))).toBe(sha);
      const db = new Database(store.path, { readonly: true });
      const ids = db.prepare<[], number>('SELECT id FROM takes').pluck().all();
      db.close();
      for (const id of ids) expect(store.readAudio(id).length).toBeGreaterThan(0);
    } finally {
      store.close();
    }
  });
});
