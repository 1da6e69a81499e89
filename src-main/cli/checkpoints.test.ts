// npm run checkpoints as a user runs it: the kept checkpoints listed with their state, size and
// models, --remove deleting the named ones (an unfinished download too), an unknown id named with
// the kept ones, and a model built with --with-checkpoints of model:remove.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCliFile } from './testing.ts';
import { readCheckpointRecord, writeCheckpointRecord, writeDownloadOrigin } from '../engine/models/checkpoint-record.ts';
import { importCheckpoint } from '../engine/models/import.ts';
import { checkpointsRoot } from '../engine/models/paths.ts';
import { ModelStore } from '../engine/models/store.ts';
import { installModel } from '../engine/runtime/install-model.ts';
import { tempDirs } from '../engine/dia/testing/temp-dirs.ts';

const CLI = join(import.meta.dirname, 'checkpoints.ts');
const REMOVE_CLI = join(import.meta.dirname, 'model-remove.ts');
const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'models');
const temp = tempDirs('checkpoints-cli-');

async function keep(dataDir: string, fixture: string, id = fixture): Promise<string> {
  return (await importCheckpoint({ sourceDir: join(FIXTURES, fixture), dataDir, id, mode: 'copy' })).dir;
}

describe('npm run checkpoints', () => {
  it('lists the kept checkpoints, deletes the named ones and exits 1 naming an id that is not kept', async () => {
    const dataDir = join(await temp('list'), 'data');
    const dia = await keep(dataDir, 'dia-tiny-b');
    const dac = await keep(dataDir, 'dac-tiny');
    await installModel(new ModelStore(dataDir), { id: 'm', diaDir: dia, dacDir: dac, precisions: ['fp32'] });
    const partial = join(checkpointsRoot(dataDir), 'nari-labs--Dia-1.6B--main');
    mkdirSync(partial);
    copyFileSync(join(FIXTURES, 'dia-tiny-b', 'config.json'), join(partial, 'config.json'));
    writeFileSync(join(partial, 'model.safetensors.part'), Buffer.alloc(2_500_000));

    const listed = await runCliFile(CLI, ['--data-dir', dataDir]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^dac-tiny {2}complete · [\d.]+ [KM]B · DAC · \S+dac-tiny · used by m\ndia-tiny-b {2}complete · [\d.]+ MB · DIA · \S+dia-tiny-b · used by m\nnari-labs--Dia-1.6B--main {2}download not finished · 2\.4 MB · DIA · nari-labs\/Dia-1\.6B@main · used by no model\n {2}Resume: install nari-labs\/Dia-1\.6B@main again in the Model panel\n$/);

    const r = await runCliFile(CLI, ['--remove', 'nari-labs--Dia-1.6B--main', 'nope', 'dia-tiny-b', '--data-dir', dataDir]);
    expect(r.stdout).toMatch(/^nari-labs--Dia-1\.6B--main deleted \(2\.4 MB freed\)\ndia-tiny-b deleted \([\d.]+ MB freed\); m keep working, an update of them fetches it again\n$/);
    expect(r.stderr).toBe(`checkpoints: nope: There is no checkpoint nope in ${checkpointsRoot(dataDir)} (kept: dac-tiny, dia-tiny-b, nari-labs--Dia-1.6B--main) [not-found]\n`);
    expect(r.code).toBe(1);
    expect(existsSync(partial)).toBe(false);
    expect(existsSync(dia)).toBe(false);
    expect(existsSync(dac)).toBe(true);
  });

  it('lists an unfinished download of a revision with "/" by its origin, and says what resumes each', async () => {
    const dataDir = join(await temp('resume'), "my data's");
    const unfinished = async (id: string, origin: Parameters<typeof writeDownloadOrigin>[1]): Promise<void> => {
      const dir = join(checkpointsRoot(dataDir), id);
      mkdirSync(dir, { recursive: true });
      copyFileSync(join(FIXTURES, 'dia-tiny-b', 'config.json'), join(dir, 'config.json'));
      writeFileSync(join(dir, 'model.safetensors.part'), Buffer.alloc(1000));
      await writeDownloadOrigin(dir, origin);
    };
    // m was installed from the hub: its update fetches owner/Dia at the commit it was compiled from.
    const dia = await keep(dataDir, 'dia-tiny-b', 'owner--Dia--main');
    const { kind, configFormat, files } = await readCheckpointRecord(dia);
    await writeCheckpointRecord(dia, { kind, configFormat, repo: 'owner/Dia', revision: 'main', commit: 'abc', files });
    await installModel(new ModelStore(dataDir), { id: 'm', diaDir: dia, dacDir: await keep(dataDir, 'dac-tiny'), precisions: ['fp32'] });
    await unfinished('owner--Dia--refs_pr_3', { repo: 'owner/Dia', revision: 'refs/pr/3', kind: 'dia', startedBy: { repoId: 'owner/Dia', revision: 'refs/pr/3', precisions: ['fp32', 'int4'] } });
    await unfinished('owner--Dia--abc', { repo: 'owner/Dia', revision: 'abc', kind: 'dia', startedBy: { modelId: 'm', addPrecisions: ['fp16'] } });

    const listed = await runCliFile(CLI, ['--data-dir', dataDir]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^owner--Dia--abc {2}download not finished · [\d.]+ KB · DIA · owner\/Dia@abc · used by no model\n {2}Resume: npm run model:update -- m --add-precision fp16 --data-dir (.+)$/m);
    // The command acts on the folder listed, not the default one: the shell gives it the path back.
    const shown = /--data-dir (.+)$/m.exec(listed.stdout)![1];
    if (process.platform === 'win32') expect(shown).toBe(`"${dataDir}"`);
    else expect(execFileSync('sh', ['-c', `printf %s ${shown}`], { encoding: 'utf8' })).toBe(dataDir);
    expect(listed.stdout).toMatch(/^owner--Dia--refs_pr_3 {2}download not finished · [\d.]+ KB · DIA · owner\/Dia@refs\/pr\/3 · used by no model\n {2}Resume: install owner\/Dia@refs\/pr\/3 again in the Model panel \(precisions fp32, int4\)$/m);
  });

  it('answers ids without --remove with the usage and exit 2', async () => {
    const r = await runCliFile(CLI, ['dia-tiny-b']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^checkpoints: to delete dia-tiny-b, add --remove\nusage: npm run checkpoints/);
  });

  it('model:remove --with-checkpoints deletes the checkpoints no other model uses, and keeps the shared codec', async () => {
    const dataDir = join(await temp('with'), 'data');
    const store = new ModelStore(dataDir);
    const dac = await keep(dataDir, 'dac-tiny');
    await installModel(store, { id: 'a', diaDir: await keep(dataDir, 'dia-tiny-a'), dacDir: dac, precisions: ['fp32'] });
    await installModel(store, { id: 'b', diaDir: await keep(dataDir, 'dia-tiny-b'), dacDir: dac, precisions: ['fp32'] });

    const first = await runCliFile(REMOVE_CLI, ['a', '--with-checkpoints', '--data-dir', dataDir]);
    expect(first).toMatchObject({ code: 0, stdout: 'a removed\ncheckpoint dia-tiny-a deleted\n', stderr: '' });
    const second = await runCliFile(REMOVE_CLI, ['b', '--with-checkpoints', '--data-dir', dataDir]);
    expect(second).toMatchObject({ code: 0, stdout: 'b removed\ncheckpoint dac-tiny deleted\ncheckpoint dia-tiny-b deleted\n', stderr: '' });
    expect(existsSync(dac)).toBe(false);
  });
});
