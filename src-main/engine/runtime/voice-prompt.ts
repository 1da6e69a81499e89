// Voice prompts: a reference clip is mixed to mono, resampled to the codec rate, padded to whole
// DAC frames (dac/audio-prep.ts, as Dia's load_audio) and encoded once; the app caches the codes
// with the speaker so every line of that speaker prefills the same frames.
import { AppError } from '../../../src-shared/errors.ts';
import { transcriptTooLong } from '../../../src-shared/script/prompt-transcript.ts';
import { prepareVoicePrompt as prepareWaveform } from '../dac/audio-prep.ts';
import { encodedLength } from '../generation/tokenizer.ts';
import type { DacRunner } from './model-api.ts';

/** Dia recommends 5-10 s prompts; longer ones eat the 3072-row window. */
export const MAX_PROMPT_SECONDS = 20;

/** Ids the transcript takes in front of a pass of `speaker`'s line: its tag, the text, a separator. */
export function promptTranscriptIds(speaker: string, transcript: string): number {
  return encodedLength(`[${speaker}] ${transcript}`) + 1;
}

/**
 * Refuses a transcript the model cannot read in front of `speaker`'s lines, or (given the
 * project's "Characters per pass") one that leaves them no room in a pass; `what` names it. The
 * limits and their wording are shared with the Speakers panel (transcriptTooLong).
 */
export function checkPromptTranscript(speaker: string, transcript: string, what: string, maxPassChars = Infinity): void {
  const reserved = transcript.search(/[\u0000-\u0002]/);
  if (reserved >= 0) {
    const code = transcript.charCodeAt(reserved).toString(16).padStart(4, '0').toUpperCase();
    throw new AppError('invalid-input', `${what} contains the control character U+${code} (at character ${reserved + 1}), which the model reserves for padding and speaker tags; remove it`);
  }
  // A render refuses a prompt that takes the whole pass (line-renderer's checkPromptRoom).
  const tooLong = transcriptTooLong(speaker, transcript, maxPassChars);
  if (tooLong) throw new AppError('invalid-input', `${what} ${tooLong}`);
}

/** A speaker tag as the script parser reads one ("[S1]".."[S99]", no leading zero). */
const SPEAKER_TAG = /\[S[1-9][0-9]?\]/;

/**
 * The transcript to keep for `speaker`'s voice prompt (checked against the project's
 * `maxPassChars` when given), or an error naming `what`. The app puts
 * "[Sn] " in front of it itself, so a leading tag of the same speaker is dropped and any other
 * speaker tag is refused: it would make the encoder read the clip's words as another turn.
 */
export function promptTranscript(speaker: string, raw: string, what: string, maxPassChars?: number): string {
  const own = `[${speaker}]`;
  let transcript = raw.trim();
  if (transcript.startsWith(own)) {
    transcript = transcript.slice(own.length).trim();
    if (transcript === '') throw new AppError('invalid-input', `${what} is empty once its speaker tag ${own} is dropped: write the words said in the clip`);
  }
  const tag = SPEAKER_TAG.exec(transcript);
  if (tag) throw new AppError('invalid-input', `${what} contains the speaker tag ${tag[0]}: write only the words said in the clip; the app puts ${own} in front of them itself`);
  checkPromptTranscript(speaker, transcript, what, maxPassChars);
  return transcript;
}

/** "20.02": `value` (a clip length, a level) with enough decimals to show it is over `limit`. */
export function shownOver(value: number, limit: number): string {
  for (let decimals = 1; decimals < 3; decimals++) {
    const shown = value.toFixed(decimals);
    if (Number(shown) > limit) return shown;
  }
  return (Math.ceil(value * 1000) / 1000).toFixed(3);
}

/** Mono samples at any rate -> undelayed prompt frames [frames, channels]. */
export async function prepareVoicePrompt(dac: DacRunner, samples: Float32Array, sampleRate: number): Promise<{ codes: Int32Array; frames: number }> {
  if (samples.length === 0) throw new AppError('invalid-input', 'The voice prompt clip is empty');
  const prepared = prepareWaveform({ sampleRate, channels: [samples] }, 'voice prompt', { sampleRate: dac.sampleRate, hop: dac.hop, maxSeconds: MAX_PROMPT_SECONDS });
  const { codes, frames } = await dac.encode(prepared.samples);
  const channels = codes.length / frames;
  // The encoder returns [channels, frames]; the decoder prefill wants frame-major rows.
  const out = new Int32Array(codes.length);
  for (let f = 0; f < frames; f++) for (let c = 0; c < channels; c++) out[f * channels + c] = codes[c * frames + f];
  return { codes: out, frames };
}
