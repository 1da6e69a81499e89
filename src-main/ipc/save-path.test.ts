// Save dialogs as Linux's behaves (the typed name comes back without the filter's extension), with
// real files for the overwrite checks. Electron's dialog cannot run here; a script answers it.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseSavePath, withExtension, type SaveDialog, type SaveDialogAnswer } from './save-path.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dia-save-path-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A dialog that gives the scripted answers in turn and records what it was shown. */
function scripted(...answers: SaveDialogAnswer[]): SaveDialog & { shown: string[] } {
  const shown: string[] = [];
  const show = async (defaultPath: string): Promise<SaveDialogAnswer> => {
    shown.push(defaultPath);
    const answer = answers.shift();
    if (!answer) throw new Error(`dialog shown more often than scripted (with ${defaultPath})`);
    return answer;
  };
  return Object.assign(show, { shown });
}

describe('chooseSavePath', () => {
  it('adds the filter extension to a name typed without it', async () => {
    const dialog = scripted({ canceled: false, filePath: path.join(dir, 'pilot') });
    expect(await chooseSavePath(dialog, 'Pilot.diaproj', ['diaproj'])).toBe(path.join(dir, 'pilot.diaproj'));
    expect(dialog.shown).toEqual(['Pilot.diaproj']);
  });

  it('keeps a name that already ends in an extension of the filter, in any case', async () => {
    const dialog = scripted({ canceled: false, filePath: path.join(dir, 'Mix.WAV') });
    expect(await chooseSavePath(dialog, 'Mix.wav', ['wav'])).toBe(path.join(dir, 'Mix.WAV'));
  });

  it('asks again instead of silently replacing a file the dialog never asked about', async () => {
    const existing = path.join(dir, 'episode 1.2.diaproj');
    await writeFile(existing, 'KEEP');
    const dialog = scripted({ canceled: false, filePath: path.join(dir, 'episode 1.2') }, { canceled: false, filePath: existing });
    // The second answer is the user confirming the overwrite in the dialog itself.
    expect(await chooseSavePath(dialog, 'Episode.diaproj', ['diaproj'])).toBe(existing);
    expect(dialog.shown).toEqual(['Episode.diaproj', existing]);
    expect(await readFile(existing, 'utf8')).toBe('KEEP');
  });

  it('treats a dismissed dialog, first or second time, as no choice', async () => {
    expect(await chooseSavePath(scripted({ canceled: true }), 'a.wav', ['wav'])).toBeNull();
    await writeFile(path.join(dir, 'taken.wav'), 'KEEP');
    expect(await chooseSavePath(scripted({ canceled: false, filePath: path.join(dir, 'taken') }, { canceled: true }), 'a.wav', ['wav'])).toBeNull();
  });
});

describe('withExtension', () => {
  const rows: [string, string[], string][] = [
    ['/x/pilot', ['diaproj'], '/x/pilot.diaproj'],
    ['/x/pilot.diaproj', ['diaproj'], '/x/pilot.diaproj'],
    ['/x/pilot.', ['diaproj'], '/x/pilot.diaproj'],
    ['/x/notes.txt', ['wav'], '/x/notes.txt.wav'],
    ['/x/labels.txt', ['txt'], '/x/labels.txt'],
    ['/x/anything', [], '/x/anything'],
  ];
  for (const [input, extensions, expected] of rows) {
    it(`${input} with [${extensions.join(', ')}] -> ${expected}`, () => {
      expect(withExtension(input, extensions)).toBe(expected);
    });
  }
});
