// The editor text kept with a project (schema version 2), including databases and project files
// written before it existed.
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtemp, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openProjectStore } from './project-store.ts';
import { PROJECT_STORE_APP_ID, PROJECT_STORE_FILE, PROJECT_STORE_MIGRATIONS } from './project-schema.ts';
import { DEFAULT_PROJECT_SETTINGS } from './index.ts';

describe('project script text', () => {
  it('round-trips the script and migrates a version-1 database keeping its projects', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'project-script-'));
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
});
