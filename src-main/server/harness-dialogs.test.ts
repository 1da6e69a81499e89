import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harnessDialogs } from './harness-dialogs.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dia-dialogs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('harness dialogs', () => {
  it('puts exports in the export folder under a fresh, safe name', async () => {
    const exportDir = path.join(dir, 'exports');
    const dialogs = harnessDialogs({ exportDir });
    const first = await dialogs.chooseExportTarget({ kind: 'file', suggestedName: 'Pilot.wav' });
    expect(first).toBe(path.join(exportDir, 'Pilot.wav'));
    await writeFile(first as string, '');
    expect(await dialogs.chooseExportTarget({ kind: 'file', suggestedName: 'Pilot.wav' })).toBe(path.join(exportDir, 'Pilot (2).wav'));
    expect(await dialogs.chooseExportTarget({ kind: 'folder', suggestedName: '../../outside' })).toBe(path.join(exportDir, '_.._outside'));
  });

  it('never hands out a name held by a dangling link: saving there would replace the link', async () => {
    const exportDir = path.join(dir, 'links');
    const dialogs = harnessDialogs({ exportDir });
    const first = await dialogs.chooseExportTarget({ kind: 'file', suggestedName: 'Take.wav' });
    await symlink(path.join(dir, 'gone.wav'), first as string);
    expect(await dialogs.chooseExportTarget({ kind: 'file', suggestedName: 'Take.wav' })).toBe(path.join(exportDir, 'Take (2).wav'));
  });

  it('imports only what the operator named at start, and says how when nothing was named', async () => {
    const dialogs = harnessDialogs({ exportDir: dir, modelFolder: 'models', voiceClip: 'voice.wav' });
    expect(await dialogs.chooseModelFolder()).toBe(path.resolve('models'));
    expect(await dialogs.chooseVoiceClip()).toBe(path.resolve('voice.wav'));
    const bare = harnessDialogs({ exportDir: dir });
    await expect(bare.chooseModelFolder()).rejects.toMatchObject({ code: 'unavailable', message: expect.stringContaining('--model-folder') });
    await expect(bare.chooseVoiceClip()).rejects.toMatchObject({ code: 'unavailable', message: expect.stringContaining('--voice-clip') });
  });
});
