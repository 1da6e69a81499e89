// Speakers of the script being edited: a name and a colour per speaker tag, plus the voice prompt
// once projects carry one. New tags in the script get a speaker with the next palette colour.
import type { SpeakerId } from '../../src-shared/script/types.ts';
import type { Speaker, VoicePromptInfo } from '../../src-shared/api.ts';

export interface SpeakerDraft {
  id: SpeakerId;
  name: string;
  color: string;
  voicePrompt: VoicePromptInfo | null;
}

/** Distinct in both themes and for the common colour-vision deficiencies (Okabe-Ito based). */
export const SPEAKER_PALETTE: readonly string[] = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#8f6d00', '#7a5195'];

export const speakers = $state<{ list: SpeakerDraft[] }>({
  list: [
    { id: 'S1', name: 'Speaker 1', color: SPEAKER_PALETTE[0], voicePrompt: null },
    { id: 'S2', name: 'Speaker 2', color: SPEAKER_PALETTE[1], voicePrompt: null },
  ],
});

function speakerNumber(id: SpeakerId): number {
  return Number(id.slice(1));
}

/** Adds a speaker for every id the script uses that has none yet, in speaker-number order. */
export function ensureSpeakers(ids: readonly SpeakerId[]): void {
  for (const id of ids) {
    if (speakers.list.some((s) => s.id === id)) continue;
    const n = speakerNumber(id);
    speakers.list.push({ id, name: `Speaker ${n}`, color: SPEAKER_PALETTE[(n - 1) % SPEAKER_PALETTE.length], voicePrompt: null });
  }
  speakers.list.sort((a, b) => speakerNumber(a.id) - speakerNumber(b.id));
}

export function updateSpeaker(id: SpeakerId, change: Partial<Pick<SpeakerDraft, 'name' | 'color'>>): void {
  const s = speakers.list.find((x) => x.id === id);
  if (!s) return;
  if (change.name !== undefined && change.name.trim() !== '') s.name = change.name.trim().slice(0, 200);
  if (change.color !== undefined && /^#[0-9a-f]{6}$/i.test(change.color)) s.color = change.color.toLowerCase();
}

/**
 * Renames a speaker (a cleared name falls back to "Speaker N") and returns the name kept, which
 * the name field writes back: it is not rewritten when the kept name equals the one before.
 */
export function renameSpeaker(id: SpeakerId, typed: string): string {
  updateSpeaker(id, { name: typed.trim() || `Speaker ${speakerNumber(id)}` });
  return speakers.list.find((s) => s.id === id)?.name ?? '';
}

export function speakerColors(): Record<string, string> {
  return Object.fromEntries(speakers.list.map((s) => [s.id, s.color]));
}

export function speakerById(id: string): SpeakerDraft | undefined {
  return speakers.list.find((s) => s.id === id);
}

/** Replaces the speakers with a project's. */
export function setSpeakers(list: readonly Speaker[]): void {
  speakers.list = list.map((s) => ({ id: s.id, name: s.name, color: s.color, voicePrompt: s.voicePrompt }));
  speakers.list.sort((a, b) => speakerNumber(a.id) - speakerNumber(b.id));
}

/** The speakers as a project saves them. */
export function projectSpeakers(): Speaker[] {
  return speakers.list.map((s) => ({ id: s.id, name: s.name, color: s.color, voicePrompt: s.voicePrompt ? { ...s.voicePrompt } : null }));
}
