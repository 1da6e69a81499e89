// The transcript the user types for a voice clip, checked as they type so the clip is not chosen
// in vain. The limit (src-shared/script/prompt-transcript.ts) is in UTF-8 bytes, as the main side
// counts it: a plain letter is one, an accented one two, most other scripts three.
import { maxTranscriptIds, promptFrameIds } from '../../src-shared/script/prompt-transcript.ts';

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
  const bytes = utf8.encode(text).length;
  const max = maxTranscriptIds(speakerId);
  if (bytes > max) return `Too long: at most ${limit(max, text, bytes)}.`;
  const maxInPass = maxTranscriptIds(speakerId, maxPassChars ?? Infinity);
  if (bytes > maxInPass) {
    return `Too long for this project's ${maxPassChars} "Characters per pass" (Settings): at most ${limit(maxInPass, text, bytes)}, or raise that setting well above ${promptFrameIds(speakerId) + bytes}.`;
  }
  return null;
}

const utf8 = new TextEncoder();

/** "508 characters" for plain text; in bytes, with how many there are, once some letter takes more than one. */
function limit(max: number, text: string, bytes: number): string {
  return bytes === text.length ? `${max} characters` : `${max} bytes in UTF-8 (${max} plain letters; accented letters take 2, most other scripts 3); this is ${bytes}`;
}
