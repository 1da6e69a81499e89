// The editor text kept with a project (schema version 2), including databases and project files
// written before it existed.
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openProjectStore } from './project-store.ts';
import { PROJECT_STORE_APP_ID, PROJECT_STORE_FILE, PROJECT_STORE_MIGRATIONS } from './project-schema.ts';
import { DEFAULT_PROJECT_SETTINGS } from './index.ts';
import { writeProjectFile, type ProjectFileManifest } from './project-file.ts';
import { AppError } from '../../src-shared/errors.ts';
import { removeTempDirs, tempDir } from './testing.ts';

afterAll(removeTempDirs);

describe('project script text', () => {
  it('round-trips the script and migrates a version-1 database keeping its projects', async () => {
    const dir = tempDir('project-script-');
    const v1 = join(dir, 'v1');
    await mkdir(v1);
    const db = new Database(join(v1, PROJECT_STORE_FILE));
    db.pragma(`application_id = ${PROJECT_STORE_APP_ID}`);
    PROJECT_STORE_MIGRATIONS[0].up(db);
    db.pragma('user_version = 1');
    db.prepare('INSERT INTO projects (id, name, created_at, updated_at, settings) VALUES (?, ?, ?, ?, ?)').run('old', 'Old project', 1, 2, JSON.stringify(DEFAULT_PROJECT_SETTINGS));
    db.close();

    const store = await openProjectStore(v1);
    const old = store.loadProject('old');
    expect(old).toMatchObject({ name: 'Old project', script: '' });
    const saved = store.saveProject({ ...old, script: '[S1]  Hello,\n   world.' });
    expect(saved.script).toBe('[S1]  Hello,\n   world.');
    const fresh = store.createProject('New');
    expect(fresh.script).toBe('');
    const file = join(dir, 'old.diaproj');
    store.exportProject('old', file);
    store.deleteProject('old');
    const imported = store.importProject(file);
    expect(imported.project.script).toBe('[S1]  Hello,\n   world.');
    store.close();
  });

  it('imports project files written before the script was kept, with an empty script', async () => {
    const dir = tempDir('project-script-');
    const project = {
      id: 'legacy', name: 'Legacy', createdAt: 1, updatedAt: 2, settings: DEFAULT_PROJECT_SETTINGS,
      speakers: [{ id: 'S1', name: 'Speaker 1', color: '#0072b2', voicePrompt: null }],
      lines: [{ id: 'l-1', speakerId: 'S1', text: 'Hello.', chosenTake: null }],
    };
    const manifest = { format: 'dia-studio-project', exportedAt: 3, project, voicePrompts: [], takes: [] } as unknown as ProjectFileManifest;
    const file = join(dir, 'legacy.diaproj');
    writeProjectFile(file, manifest, { voicePrompt: () => new Uint8Array(0), take: () => new Uint8Array(0) });
    const store = await openProjectStore(dir);
    try {
      const { project: imported } = store.importProject(file);
      expect(imported).toMatchObject({ id: 'legacy', script: '', lines: [{ id: 'l-1', text: 'Hello.' }] });
      expect(store.loadProject('legacy').script).toBe('');
    } finally {
      store.close();
    }
  });

  it('refuses script text that would not survive storage', async () => {
    const store = await openProjectStore(tempDir('project-script-'));
    try {
      const p = store.createProject('Checks');
      for (const script of ['nul \u0000 here', 'lone \uD800 surrogate', 'x'.repeat(1_000_001)]) {
        let error: unknown;
        try {
          store.saveProject({ ...p, script });
        } catch (err) {
          error = err;
        }
        expect(error).toBeInstanceOf(AppError);
        expect(error).toMatchObject({ code: 'invalid-input', message: expect.stringMatching(/^Invalid project: script /) });
      }
      expect(store.loadProject(p.id).script).toBe('');
    } finally {
      store.close();
    }
  });
});
