// model:demo as a user runs it: two at once on one empty data folder both end with the demo
// installed (one builds, the other waits its turn), and a bad command line gets the usage.
import { describe, expect, it } from 'vitest';
import { runCliFile, type CliResult } from './testing.ts';
import { join } from 'node:path';
import { ModelStore, DEMO_MODEL_ID } from '../engine/models/store.ts';
import { tempDirs } from '../engine/dia/testing/temp-dirs.ts';

const CLI = join(import.meta.dirname, 'model-demo.ts');
const temp = tempDirs('model-demo-cli-');

const cli = (args: string[]): Promise<CliResult> => runCliFile(CLI, args);

describe('npm run model:demo', () => {
  it('builds the demo when two of it run at once on an empty data folder', async () => {
    const dataDir = join(await temp('data'), 'data');
    const both = await Promise.all([cli(['--data-dir', dataDir]), cli(['--data-dir', dataDir])]);
    for (const r of both) expect(r).toMatchObject({ code: 0, stdout: `demo model ready: ${join(dataDir, 'models', DEMO_MODEL_ID)}\n` });
    expect((await new ModelStore(dataDir).list()).map((m) => [m.id, m.error])).toEqual([[DEMO_MODEL_ID, null]]);
  });

  it('prints its usage for --help, and the usage with exit 2 for an unknown option', async () => {
    const help = await cli(['--help']);
    expect(help).toMatchObject({ code: 0, stdout: expect.stringMatching(/^usage: npm run model:demo/) });
    const bad = await cli(['--colour', 'red']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^model:demo: Unknown option '--colour'.*\nusage: npm run model:demo/s);
    expect(bad.stderr).not.toContain('    at ');
  });
});
