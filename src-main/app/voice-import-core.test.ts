// Importing a voice clip through the app core: the answer carries the note the voice service
// gives (a clip over full scale was scaled down), validated against the API schema.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { concatBytes, encodeWav } from '../audio/wav.ts';
import { removeTempDirs, speechLikeAudio } from '../store/testing.ts';
import { AppCore } from './app-core.ts';
import { createProjectService } from './project-service.ts';
import { openTestStores, type TestStores } from './store-test-support.ts';
import { unavailableEngine, unavailableExports, unavailableTakes } from './unavailable-services.ts';
import { createVoiceService } from './voice-service.ts';

afterAll(removeTempDirs);

let stores: TestStores;
beforeEach(async () => {
  stores = await openTestStores();
});
afterEach(() => stores.close());

const identity = { appName: 'Dia Studio', appVersion: '1.2.3', transport: 'electron' as const, platform: 'linux' };

/** A core whose voice-clip dialog "picks" `clip`. */
function coreChoosing(clip: string): AppCore {
  const none = async () => null;
  return new AppCore({
    engine: unavailableEngine('no engine here'),
    projects: createProjectService(stores),
    takes: unavailableTakes('no takes here'),
    voices: createVoiceService(stores),
    exports: unavailableExports('no exports here'),
    dialogs: { chooseModelFolder: none, chooseCudaFolder: none, chooseProjectFile: none, chooseExportTarget: none, chooseVoiceClip: async () => clip },
  }, identity);
}

async function floatWav(name: string, samples: Float32Array): Promise<string> {
  const path = join(stores.dir, name);
  await writeFile(path, concatBytes(encodeWav([samples], 22_050, 'float32')));
  return path;
}

describe('AppCore importVoicePrompt', () => {
  it('tells the user when the clip peaked over full scale and was scaled down, and says nothing for a clip within it', async () => {
    const project = stores.projects.createProject('Voices', undefined, [{ id: 'S1', name: 'Ada', color: '#0072b2', voicePrompt: null }]);
    const voice = speechLikeAudio(1, 4, 22_050);
    const peak = voice.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    const loud = await floatWav('loud.wav', voice.map((x) => (x / peak) * 10 ** (3.1 / 20)));
    const answer = await coreChoosing(loud).call('importVoicePrompt', { projectId: project.id, speakerId: 'S1', transcript: 'Loud.' });
    expect(answer).toMatchObject({
      ok: true,
      value: { status: 'imported', speaker: { id: 'S1' }, note: 'The clip peaked at +3.1 dBFS, louder than full scale: it was scaled down by 3.1 dB to fit, keeping its shape instead of clipping it' },
    });
    const quiet = await floatWav('quiet.wav', voice);
    const plain = await coreChoosing(quiet).call('importVoicePrompt', { projectId: project.id, speakerId: 'S1', transcript: 'Quiet.' });
    expect(plain).toMatchObject({ ok: true, value: { status: 'imported' } });
    expect(plain.ok && 'note' in (plain.value as object)).toBe(false);
  });
});
