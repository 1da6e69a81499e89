// How long a voice prompt's transcript may be. It goes in front of every pass of its speaker's
// lines ("[Sn] transcript" and a separator), and the line's own text must fit beside it. The main
// side refuses a longer one (src-main/engine/runtime/voice-prompt.ts) and the Speakers panel says so
// as the user types (src-renderer/lib/voice-transcript.ts), both with transcriptTooLong.
import { MODEL_TEXT_WINDOW, SPEAKER_TAG_PATTERN, speakerTagIds } from './tags.ts';

/** Encoder ids a prompt transcript, with its tag and separator, must stay under. */
export const PROMPT_TRANSCRIPT_WINDOW = MODEL_TEXT_WINDOW / 2;

/** Ids around a transcript in front of a pass: the speaker's tag, a space, and the separator after it. */
export function promptFrameIds(speakerId: string): number {
  const tag = SPEAKER_TAG_PATTERN.exec(speakerId);
  return (tag ? speakerTagIds(Number(tag[1])) : `[${speakerId}]`.length) + 2;
}

/**
 * Longest transcript for `speakerId`, in ids (one per UTF-8 byte: a plain character is one):
 * under half the window and, given the project's "Characters per pass", under that too, as a
 * render refuses a prompt that leaves the line no room in a pass.
 */
export function maxTranscriptIds(speakerId: string, maxPassChars = Infinity): number {
  return Math.min(PROMPT_TRANSCRIPT_WINDOW, maxPassChars) - 1 - promptFrameIds(speakerId);
}

const utf8 = new TextEncoder();

/**
 * Why `transcript` (the words alone: speaker tags are refused before) is too long for
 * `speakerId`'s voice prompt, or null; `maxPassChars` is the project's "Characters per pass".
 * Worded to follow its subject ("The transcript of voice clip x.wav ..."), so the Speakers panel
 * and the main side's errors say it alike. Plain text is counted in characters; text with other
 * letters in UTF-8 bytes, the unit the model reads.
 */
export function transcriptTooLong(speakerId: string, transcript: string, maxPassChars = Infinity): string | null {
  const bytes = utf8.encode(transcript).length;
  const chars = [...transcript].length;
  const plain = chars === bytes;
  const size = plain ? `${chars} characters` : `${chars} characters (${bytes} bytes in UTF-8)`;
  const most = (max: number): string => (plain ? `${max} characters` : `${max} bytes in UTF-8 (${max} plain ASCII characters; accented letters take 2, most other scripts 3)`);
  const max = maxTranscriptIds(speakerId);
  if (bytes > max) return `is ${size}; a voice prompt transcript for speaker ${speakerId} is limited to ${most(max)}: shorten it`;
  const inPass = maxTranscriptIds(speakerId, maxPassChars);
  if (bytes <= inPass) return null;
  const ids = promptFrameIds(speakerId) + bytes;
  return `is ${size}; with its speaker tag it takes ${ids} of this project's ${maxPassChars} "Characters per pass" (Settings), leaving its lines no room: shorten it to at most ${most(inPass)} or raise "Characters per pass" well above ${ids}`;
}
