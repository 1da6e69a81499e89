// How long a voice prompt's transcript may be. It goes in front of every pass of its speaker's
// lines ("[Sn] transcript" and a separator), and the line's own text must fit beside it. The
// engine holds transcripts to this in encoded ids (src-main/engine/runtime/voice-prompt.ts); the
// Speakers panel checks it as the user types (src-renderer/lib/voice-transcript.ts).
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
