// Loaded-model markers: a model another live process has loaded is not removed; this process's own
// markers never block it (the app unloads before it removes), and markers of dead processes, or of
// an earlier process that had this pid, are ignored and deleted.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDirs } from '../dia/testing/temp-dirs.ts';
import { markLoaded, refuseRemoveIfLoadedElsewhere } from './loaded-marker.ts';
import { ModelStore } from './store.ts';

const temp = tempDirs('loaded-marker-');
const DEAD_PID = 2147483646;

async function markers(root: string): Promise<string[]> {
  return (await readdir(root)).filter((name) => name.includes('.loaded-')).sort();
}

describe('loaded-model markers', () => {
  it('never block removal in the process that holds them, and each holder releases only its own', async () => {
    const store = new ModelStore(await temp('own'));
    await mkdir(store.modelDir('m'), { recursive: true });
    const first = await markLoaded(store.root, 'm');
    const second = await markLoaded(store.root, 'm');
    expect(await markers(store.root)).toHaveLength(2);
    await first();
    await first();
    expect(await markers(store.root)).toHaveLength(1);
    await store.remove('m');
    expect(existsSync(store.modelDir('m'))).toBe(false);
    await second();
    expect(await markers(store.root)).toEqual([]);
  });

  it('name every live process that has the model loaded, and ignore and delete those of dead processes', async () => {
    const root = await temp('others');
    const live = `.m.loaded-${process.ppid}-0123abcd00000001`;
    await writeFile(join(root, live), '');
    await writeFile(join(root, `.m.loaded-${DEAD_PID}-0123abcd00000002`), '');
    // This pid, another process tag: an earlier process (a restarted container), long gone.
    await writeFile(join(root, `.m.loaded-${process.pid}-0000000000000003`), '');
    // Another model's marker is not this one's, even when its id starts or ends like this one's.
    const others = [`.m.loaded-1.loaded-${process.ppid}-0123abcd00000004`, `.x.m.loaded-${process.ppid}-0123abcd00000005`];
    for (const name of others) await writeFile(join(root, name), '');
    await expect(refuseRemoveIfLoadedElsewhere(root, 'm')).rejects.toMatchObject({
      code: 'exists',
      message: expect.stringMatching(new RegExp(`^Cannot remove model m: Dia Studio \\(process ${process.ppid}\\) has it loaded\\. .*delete ${join(root, live).replace(/[.\\]/g, '\\$&')}\\)$`)),
    });
    expect(await markers(root)).toEqual([live, ...others].sort());
  });

  it("are kept by the store's sweep while their holder lives, deleted once it is gone, and never taken for an unfinished install", async () => {
    const store = new ModelStore(await temp('sweep'));
    await mkdir(store.modelDir('m'), { recursive: true });
    const release = await markLoaded(store.root, 'm');
    const own = await markers(store.root);
    const other = `.m.loaded-${process.ppid}-0123abcd00000001`;
    await writeFile(join(store.root, other), '');
    await writeFile(join(store.root, `.n.loaded-${DEAD_PID}-0123abcd00000002`), '');
    expect((await store.list()).map((m) => m.id)).toEqual(['m']);
    await (await store.beginInstall('k')).abort();
    expect(store.takeInterrupted()).toEqual([]);
    expect(await markers(store.root)).toEqual([...own, other].sort());
    await expect(store.remove('m')).rejects.toMatchObject({ code: 'exists', message: expect.stringContaining(`process ${process.ppid}`) });
    await release();
    expect(await markers(store.root)).toEqual([other]);
  });
});
