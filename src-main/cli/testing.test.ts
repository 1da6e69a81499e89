import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliFile } from './testing.ts';

describe('runCliFile', () => {
  it('returns the exit code and output of a command, and fails one that runs past its time limit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'run-cli-'));
    const exits = join(dir, 'exits.mjs');
    await writeFile(exits, "console.log('out'); console.error('err'); process.exit(3);\n");
    expect(await runCliFile(exits, [], { timeoutMs: 30_000 })).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });

    const hangs = join(dir, 'hangs.mjs');
    await writeFile(hangs, "console.log('started'); setInterval(() => undefined, 1000);\n");
    const started = Date.now();
    await expect(runCliFile(hangs, ['--flag'], { timeoutMs: 500 })).rejects.toThrow(/hangs\.mjs --flag did not finish within 500 ms \(killed with SIGTERM\); its output so far:\nstarted/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
