// The desktop dialogs with Electron's `dialog` answering as it does on Linux, where the save
// dialog returns the name as typed (no extension added). Electron cannot run here, so its dialog
// module is replaced by a script; the files are real.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

const answers: { canceled: boolean; filePath?: string }[] = [];
const shown: { defaultPath?: string; filters?: unknown }[] = [];

vi.mock('electron', () => ({
  dialog: {
    showSaveDialog: async (options: { defaultPath?: string; filters?: unknown }) => {
      shown.push({ defaultPath: options.defaultPath, filters: options.filters });
      return answers.shift() ?? { canceled: true };
    },
    showOpenDialog: async () => ({ canceled: true, filePaths: [] }),
  },
}));

const { electronDialogs } = await import('./electron-dialogs.ts');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dia-dialogs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  answers.length = 0;
  shown.length = 0;
});

const dialogs = electronDialogs(() => null);
const projectFile = { kind: 'file' as const, suggestedName: 'Pilot.diaproj', filter: { name: 'Dia Studio project', extensions: ['diaproj'] } };

describe('electronDialogs.chooseExportTarget', () => {
  it('saves a project file typed without its extension as a .diaproj the open dialog can find', async () => {
    answers.push({ canceled: false, filePath: path.join(dir, 'pilot') });
    expect(await dialogs.chooseExportTarget(projectFile)).toBe(path.join(dir, 'pilot.diaproj'));
    expect(shown).toEqual([{ defaultPath: 'Pilot.diaproj', filters: [projectFile.filter] }]);
  });

  it('shows the dialog again rather than replace an existing file with the added extension', async () => {
    const existing = path.join(dir, 'mix.wav');
    await writeFile(existing, 'KEEP');
    answers.push({ canceled: false, filePath: path.join(dir, 'mix') }, { canceled: true });
    expect(await dialogs.chooseExportTarget({ kind: 'file', suggestedName: 'Pilot.wav', filter: { name: 'WAV audio', extensions: ['wav'] } })).toBeNull();
    expect(shown.map((s) => s.defaultPath)).toEqual(['Pilot.wav', existing]);
    expect(await readFile(existing, 'utf8')).toBe('KEEP');
  });
});
