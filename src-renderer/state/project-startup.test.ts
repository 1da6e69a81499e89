import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from './state-test-support.ts';
import { notices } from './notices.svelte.ts';
import { openStartupProject, project } from './project.svelte.ts';

let backend: TestBackend;

beforeAll(async () => {
  backend = await startTestBackend();
});

beforeEach(() => {
  notices.list.splice(0);
  Object.assign(project, { id: null, name: '', settings: null, loadError: null });
});

describe('opening a project at start-up', () => {
  it('skips a last project that cannot be opened, says so, and opens the next most recent one', async () => {
    const older = await backend.api.createProject({ name: 'Older' });
    const newest = await backend.api.createProject({ name: 'Broken' });
    await backend.damageProject(newest.id);
    const opened = await openStartupProject(backend.api);
    expect(opened?.id).toBe(older.id);
    expect(project).toMatchObject({ id: older.id, name: 'Older', loadError: null });
    expect(notices.list.map((n) => n.message)).toEqual([expect.stringMatching(/^Cannot open "Broken" \(.+\)\. Opened "Older" instead\.$/)]);
  });

  it('opens none when no project opens, saying why, so the Projects dialog stays the way on', async () => {
    for (const p of await backend.api.listProjects()) await backend.damageProject(p.id);
    expect(await openStartupProject(backend.api)).toBeNull();
    expect(project.id).toBeNull();
    expect(project.loadError).toMatch(/^none of the 2 projects opens: "Broken" \(.+\); "Older" \(.+\)$/);
    expect(notices.list.map((n) => n.message)).toEqual([expect.stringContaining('open, create or import a project under Projects')]);
  });
});
