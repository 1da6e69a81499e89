// The transcript the user types for a voice clip, checked as they type so the clip is not chosen
// in vain, in the same words the main side refuses it with (src-shared/script/prompt-transcript.ts).
import { transcriptTooLong } from '../../src-shared/script/prompt-transcript.ts';

/** A speaker tag as the script parser reads one ("[S1]".."[S99]", no leading zero). */
const SPEAKER_TAG = /\[S[1-9][0-9]?\]/;

/** The words the clip says: a leading tag of the speaker itself is dropped (the app adds it). */
function words(speakerId: string, transcript: string): string {
  const own = `[${speakerId}]`;
  const trimmed = transcript.trim();
  return trimmed.startsWith(own) ? trimmed.slice(own.length).trim() : trimmed;
}

/**
 * Why the transcript cannot be used: '' when there is nothing to say yet, null when it is fine.
 * `maxPassChars` is the project's "Characters per pass" (null: not known yet).
 */
export function transcriptProblem(speakerId: string, transcript: string, maxPassChars: number | null = null): string | null {
  const text = words(speakerId, transcript);
  if (text === '') return '';
  const tag = SPEAKER_TAG.exec(text);
  if (tag) return `Leave out the speaker tag ${tag[0]}: write only the words said in the clip; [${speakerId}] is put in front of them for you.`;
  const tooLong = transcriptTooLong(speakerId, text, maxPassChars ?? Infinity);
  return tooLong && `This transcript ${tooLong}.`;
}
