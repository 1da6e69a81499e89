import { beforeAll, describe, expect, it } from 'vitest';
import { editScript, remountEditor, startTestBackend, until, type TestBackend } from './state-test-support.ts';
import { startApp } from './app.svelte.ts';
import { audition, renderAll } from './audition.svelte.ts';
import { notices } from './notices.svelte.ts';
import { flushSave, project } from './project.svelte.ts';
import { speakers } from './speakers.svelte.ts';
import {
  createProject, deleteProjectById, leaveWithoutEdits, openProjectById, projects, retryLeaving, saveEditsAsNewProject, saveProjectFile,
} from './projects.svelte.ts';

let backend: TestBackend;
const busy = { code: 'store-failed', message: 'database is locked' } as const;

beforeAll(async () => {
  backend = await startTestBackend();
  await startApp();
  await remountEditor();
});

describe('switching projects', () => {
  it('saves edits whose autosave failed before leaving the project', async () => {
    await editScript('[S1] Draft one.');
    await flushSave();
    const first = project.id!;
    backend.failNext.saveProject = { times: 1, error: busy };
    await editScript('[S1] Draft one, with an important rewrite.');
    await flushSave();
    expect(project.saveState).toBe('failed');
    expect(await createProject('Other')).toBe(true);
    const stored = await backend.api.openProject({ projectId: first });
    expect(stored.script).toContain('important rewrite');
  });

  it('stays on the project, with a notice, while its edits still cannot be saved', async () => {
    await remountEditor();
    const here = project.id!;
    backend.failNext.saveProject = { times: 3, error: busy };
    await editScript('[S1] Words that must not be lost.');
    await flushSave();
    expect(await createProject('Elsewhere')).toBe(false);
    expect(project.id).toBe(here);
    expect(notices.list.at(-1)?.message).toMatch(/could not be saved/);
    backend.failNext.saveProject.times = 0;
    await flushSave();
    expect((await backend.api.openProject({ projectId: here })).script).toBe('[S1] Words that must not be lost.');
  });

  it('cancels and forgets a running Render all, so the next project can render', async () => {
    await renderAll(await editScript('[S1] Line one. [S2] Line two.'));
    const queueId = audition.queue?.queueId;
    expect(queueId).toBeTruthy();
    expect(await createProject('Third')).toBe(true);
    expect(audition.queue).toBeNull();
    expect(backend.engineCalls.filter((c) => c.method === 'cancelQueue').map((c) => c.args[0])).toEqual([queueId]);
    const lines = await editScript('[S1] Something else entirely.');
    const before = backend.engineCalls.filter((c) => c.method === 'renderAll').length;
    await renderAll(lines);
    expect(backend.engineCalls.filter((c) => c.method === 'renderAll')).toHaveLength(before + 1);
  });
});

describe('leaving a project whose edits cannot be saved', () => {
  /** The reviewer's case: another tab deletes the open project, so every save of it fails. */
  async function editDeletedProject(): Promise<{ here: string; other: string }> {
    await remountEditor();
    await editScript('[S1] Hello.');
    await flushSave();
    const here = project.id!;
    const other = await backend.api.createProject({ name: 'Other' });
    await backend.api.deleteProject({ projectId: here });
    await editScript('[S1] Hello, edited after the delete.');
    expect(await flushSave()).toBe(false);
    return { here, other: other.id };
  }

  it('refuses to leave at first, then leaves without the edits when the user says so', async () => {
    const { here, other } = await editDeletedProject();
    expect(await createProject('Fresh')).toBe(false);
    expect(await openProjectById(other)).toBe(false);
    expect(project.id).toBe(here);
    expect(projects.unsaved).toMatchObject({ projectGone: true });
    expect(projects.error).toMatch(/could not be saved/);
    expect(await leaveWithoutEdits()).toBe(true);
    expect(project.id).toBe(other);
    expect(projects.unsaved).toBeNull();
    // The discarded edits never reach the project the user went to.
    expect(project.saveState).toBe('saved');
    expect(await flushSave()).toBe(true);
    expect((await backend.api.openProject({ projectId: other })).script).toBe('');
  });

  it('saves the edits of a deleted project as a new project and opens it', async () => {
    const { here, other } = await editDeletedProject();
    expect(await openProjectById(other)).toBe(false);
    const name = project.name;
    expect(await saveEditsAsNewProject()).toBe(true);
    expect([here, other]).not.toContain(project.id);
    expect(project.name).toBe(`${name} (recovered)`);
    const stored = await backend.api.openProject({ projectId: project.id! });
    expect(stored.script).toBe('[S1] Hello, edited after the delete.');
    expect(stored.lines.map((l) => l.text)).toEqual(['Hello, edited after the delete.']);
    expect(await flushSave()).toBe(true);
  });

  it('names the recovered project within the name limit, never cutting a character in half', async () => {
    const long = `${'a'.repeat(187)}😀${'b'.repeat(10)}`;
    expect(await createProject(long)).toBe(true);
    await editDeletedProject();
    expect(project.name).toBe(long);
    expect(await saveEditsAsNewProject()).toBe(true);
    expect(project.name).toBe(`${'a'.repeat(187)} (recovered)`);
    expect(await flushSave()).toBe(true);
  });

  it('saves the edits of a deleted project whose speaker had a voice clip as a new project, without that clip', async () => {
    await remountEditor();
    await editScript('[S1] Hello.');
    await flushSave();
    const here = project.id!;
    speakers.list[0].name = 'Ada';
    await backend.api.deleteProject({ projectId: here });
    // What voices.svelte.ts keeps after an import: the clip went with the deleted project.
    speakers.list[0].voicePrompt = { sha256: 'ab'.repeat(32), transcript: 'This is me.', sampleRate: 44_100, sampleCount: 44_100 };
    await editScript('[S1] Hello, with a voice, edited after the delete.');
    expect(await flushSave()).toBe(false);
    expect(await createProject('Fresh')).toBe(false);
    expect(await saveEditsAsNewProject()).toBe(true);
    expect(project.id).not.toBe(here);
    const stored = await backend.api.openProject({ projectId: project.id! });
    expect(stored.script).toBe('[S1] Hello, with a voice, edited after the delete.');
    expect(stored.speakers[0]).toMatchObject({ id: 'S1', name: 'Ada', voicePrompt: null });
    expect(speakers.list[0]).toMatchObject({ name: 'Ada', voicePrompt: null });
    expect(notices.list.map((n) => n.message).join('\n')).toMatch(/Ada lost its voice clip.*Import it again under Speakers/);
    expect(await flushSave()).toBe(true);
  });

  it('drops a refusal once the edits save after all, so its choices cannot make the old move', async () => {
    await remountEditor();
    await flushSave();
    const here = project.id!;
    backend.failNext.saveProject = { times: 100, error: busy };
    await editScript('[S1] Saved once the store is back.');
    expect(await flushSave()).toBe(false);
    expect(await deleteProjectById(here)).toBe(false);
    expect(projects.unsaved).not.toBeNull();
    backend.failNext.saveProject.times = 0;
    await editScript('[S1] Saved once the store is back, really.');
    expect(await flushSave()).toBe(true);
    expect(projects.unsaved).toBeNull();
    expect(projects.error).toBeNull();
    expect(await leaveWithoutEdits()).toBe(false);
    expect(await retryLeaving()).toBe(false);
    expect(project.id).toBe(here);
    expect((await backend.api.listProjects()).map((p) => p.id)).toContain(here);
  });

  it('offers the same way out while a store failure lasts, and the next flush after it saves', async () => {
    await remountEditor();
    await flushSave();
    const here = project.id!;
    backend.failNext.saveProject = { times: 100, error: busy };
    await editScript('[S1] An edit the store keeps refusing.');
    expect(await flushSave()).toBe(false);
    expect(await deleteProjectById(here)).toBe(false);
    expect(projects.unsaved).toMatchObject({ projectGone: false });
    expect(await retryLeaving()).toBe(false);
    expect(await leaveWithoutEdits()).toBe(true);
    backend.failNext.saveProject.times = 0;
    expect(project.id).not.toBe(here);
    // The user's delete went ahead once they chose to leave the edits behind.
    expect((await backend.api.listProjects()).map((p) => p.id)).not.toContain(here);
    expect(await flushSave()).toBe(true);
    expect((await backend.api.openProject({ projectId: project.id! })).script).not.toContain('keeps refusing');
  });

  it('opens the project it loaded, not another copy, once edits typed while it loaded are saved', async () => {
    await remountEditor();
    await flushSave();
    const here = project.id!;
    let loading = false;
    const gate = backend.hold('createProject', () => (loading = true));
    const switching = createProject('Late');
    await until(() => loading);
    backend.failNext.saveProject = { times: 100, error: busy };
    await editScript('[S1] Typed while the other project loads.');
    await gate.release();
    expect(await switching).toBe(false);
    expect(project.id).toBe(here);
    expect(projects.error).toMatch(/"Late" is ready/);
    backend.failNext.saveProject.times = 0;
    expect(await retryLeaving()).toBe(true);
    const late = (await backend.api.listProjects()).filter((p) => p.name === 'Late');
    expect(late.map((p) => p.id)).toEqual([project.id]);
    expect((await backend.api.openProject({ projectId: here })).script).toBe('[S1] Typed while the other project loads.');
  });
});

describe('deleting a project that is not open', () => {
  it('sends one delete when the confirm is clicked twice before the reply, and is busy meanwhile', async () => {
    const other = await backend.api.createProject({ name: 'To delete' });
    const before = backend.calls.deleteProject ?? 0;
    const first = deleteProjectById(other.id);
    const busyMeanwhile = projects.busy;
    const second = deleteProjectById(other.id);
    expect(await first).toBe(true);
    expect(await second).toBe(false);
    expect((backend.calls.deleteProject ?? 0) - before).toBe(1);
    expect(busyMeanwhile).toBe(true);
    expect(projects.busy).toBe(false);
    expect((await backend.api.listProjects()).some((p) => p.id === other.id)).toBe(false);
  });
});

describe('saving the project as a file', () => {
  it('refuses, saying why, while the latest edits cannot be saved, instead of writing a file without them', async () => {
    await remountEditor();
    await flushSave();
    backend.failNext.saveProject = { times: 100, error: busy };
    await editScript('[S1] The only copy of this rewrite.');
    const before = backend.calls.saveProjectFile ?? 0;
    const noticesBefore = notices.list.length;
    await saveProjectFile();
    expect(backend.calls.saveProjectFile ?? 0).toBe(before);
    expect(projects.error).toMatch(/latest edits .* could not be saved/);
    expect(notices.list.slice(noticesBefore).some((n) => n.message.startsWith('Saved '))).toBe(false);
    backend.failNext.saveProject.times = 0;
    await saveProjectFile();
    expect(backend.calls.saveProjectFile).toBe(before + 1);
    expect(projects.error).toBeNull();
    expect(notices.list.at(-1)?.message).toMatch(/^Saved /);
  });
});
