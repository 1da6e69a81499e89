// Voice prompts of the speakers: import a WAV clip with its transcript (the main side opens the
// file dialog), or promote a take to be a speaker's voice. The project is saved first, so the
// speaker exists on the main side; the answer updates the local speaker, which the autosave keeps.
import type { AppApi, Speaker } from '../../src-shared/api.ts';
import type { SpeakerId } from '../../src-shared/script/types.ts';
import { describeError } from './errors.ts';
import { notify } from './notices.svelte.ts';
import { flushSave, project } from './project.svelte.ts';
import { speakers } from './speakers.svelte.ts';

/** Speaker whose voice prompt is being imported or promoted (buttons show it as busy). */
export const voiceWork = $state<{ speakerId: string | null }>({ speakerId: null });

let api: AppApi | null = null;

export function connectVoices(client: AppApi): void {
  api = client;
}

function apply(speaker: Speaker): void {
  const local = speakers.list.find((s) => s.id === speaker.id);
  if (local) local.voicePrompt = speaker.voicePrompt;
}

/** What a call answers: the speaker with its new voice, and what the user should know it changed. */
type Outcome = { speaker: Speaker; note?: string } | null;

async function run(speakerId: SpeakerId, what: string, call: (client: AppApi, projectId: string) => Promise<Outcome>): Promise<boolean> {
  if (!api || !project.id || voiceWork.speakerId !== null) return false;
  voiceWork.speakerId = speakerId;
  try {
    await flushSave();
    const outcome = await call(api, project.id);
    if (!outcome) return false;
    const { speaker, note } = outcome;
    apply(speaker);
    notify('info', `${speaker.name} now speaks with the voice of ${what}.${note ? ` ${note}.` : ''}`);
    return true;
  } catch (err) {
    notify('error', `Cannot set the voice of ${speakerId}: ${describeError(err)}`);
    return false;
  } finally {
    voiceWork.speakerId = null;
  }
}

/** Imports a clip chosen in the main side's file dialog; false when cancelled or failed. */
export function importVoice(speakerId: SpeakerId, transcript: string): Promise<boolean> {
  return run(speakerId, 'the imported clip', async (client, projectId) => {
    const result = await client.importVoicePrompt({ projectId, speakerId, transcript: transcript.trim() });
    return result.status === 'imported' ? result : null;
  });
}

/** Makes a take (and its line's text as transcript) the speaker's voice prompt. */
export function promoteTake(speakerId: SpeakerId, takeId: number): Promise<boolean> {
  return run(speakerId, `take ${takeId}`, async (client, projectId) => ({ speaker: await client.promoteTakeToVoice({ projectId, takeId, speakerId }) }));
}

/** Goes back to Dia's own voice for the speaker (the clip stays stored with the project). */
export function removeVoice(speakerId: SpeakerId): void {
  const local = speakers.list.find((s) => s.id === speakerId);
  if (local) local.voicePrompt = null;
}
