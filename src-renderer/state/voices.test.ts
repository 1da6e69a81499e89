// Voice imports in the renderer: the notice says what the main side changed about the clip. The
// backend here has no voice service, so the import answer comes from a stand-in client, checked
// against the API schema the real answer passes.
import { beforeAll, describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { remountEditor, startTestBackend, type TestBackend } from './state-test-support.ts';
import { ImportVoicePromptResultSchema, type ImportVoicePromptResult } from '../../src-shared/api/projects.ts';
import { startApp } from './app.svelte.ts';
import { notices } from './notices.svelte.ts';
import { flushSave, project } from './project.svelte.ts';
import { speakers } from './speakers.svelte.ts';
import { connectVoices, importVoice } from './voices.svelte.ts';

let backend: TestBackend;

beforeAll(async () => {
  backend = await startTestBackend();
  await startApp();
  await remountEditor();
});

/** The voice service's answer for speaker S1 of the open project, with `note` when given. */
function answering(note?: string): void {
  const voicePrompt = { sha256: 'ab'.repeat(32), transcript: 'Loud.', sampleRate: 22_050, sampleCount: 22_050 };
  const result: ImportVoicePromptResult = v.parse(ImportVoicePromptResultSchema, {
    status: 'imported', speaker: { id: 'S1', name: speakers.list[0].name, color: speakers.list[0].color, voicePrompt }, ...(note ? { note } : {}),
  });
  connectVoices({ ...backend.api, importVoicePrompt: async () => result });
}

describe('importing a voice clip', () => {
  it('says in its notice that a clip louder than full scale was scaled down, and only then', async () => {
    await flushSave();
    expect(project.id).toBeTruthy();
    const scaled = 'The clip peaked at +3.1 dBFS, louder than full scale: it was scaled down by 3.1 dB to fit, keeping its shape instead of clipping it';
    answering(scaled);
    expect(await importVoice('S1', 'Loud.')).toBe(true);
    expect(notices.list.at(-1)).toMatchObject({ kind: 'info', message: `${speakers.list[0].name} now speaks with the voice of the imported clip. ${scaled}.` });
    expect(speakers.list[0].voicePrompt?.transcript).toBe('Loud.');
    answering();
    expect(await importVoice('S1', 'Loud.')).toBe(true);
    expect(notices.list.at(-1)?.message).toBe(`${speakers.list[0].name} now speaks with the voice of the imported clip.`);
  });
});
