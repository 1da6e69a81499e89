// Voice prompts: a speaker's reference clip plus its transcript. The hash covers what the model
// will be fed after a save/load round trip (the 24-bit samples, their rate and the transcript),
// so it is stable across saves and is what a take key refers to.
import { createHash } from 'node:crypto';
import { decodeFlac, encodeFlac } from './flac.ts';
import { checkAudio, floatToPcm24, pcm24ToFloat } from './pcm.ts';
import type { VoicePromptClip, VoicePromptRef } from './types.ts';
import { MAX_TRANSCRIPT_CHARS, parseInput, wellFormedText } from './validate.ts';
import { AppError } from '../../src-shared/errors.ts';

const HASH_DOMAIN = 'dia-studio/voice-prompt/v1';

export function voicePromptSha256(pcm: Int32Array, sampleRate: number, transcript: string): string {
  const header = Buffer.from(`${HASH_DOMAIN}\n${sampleRate}\n${Buffer.byteLength(transcript, 'utf8')}\n${transcript}\n`, 'utf8');
  return createHash('sha256').update(header).update(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength)).digest('hex');
}

export interface EncodedVoicePrompt {
  ref: VoicePromptRef;
  flac: Uint8Array;
}

/** Validates a clip and turns it into its stored form. */
export function encodeVoicePrompt(clip: VoicePromptClip, what: string): EncodedVoicePrompt {
  if (typeof clip !== 'object' || clip === null) throw new AppError('invalid-input', `Invalid ${what}: expected { samples, sampleRate, transcript }`);
  checkAudio(clip.samples, clip.sampleRate, what);
  const transcript = parseInput(wellFormedText(MAX_TRANSCRIPT_CHARS), clip.transcript, `${what} transcript`);
  const pcm = floatToPcm24(clip.samples);
  return {
    ref: { sha256: voicePromptSha256(pcm, clip.sampleRate, transcript), transcript, sampleRate: clip.sampleRate, sampleCount: pcm.length },
    flac: encodeFlac(pcm, clip.sampleRate),
  };
}

/** Decodes a stored clip and checks it is the one `ref` names. */
export function decodeVoicePrompt(ref: VoicePromptRef, flac: Uint8Array, what: string): VoicePromptClip {
  const { pcm, sampleRate } = decodeFlac(flac, what);
  if (sampleRate !== ref.sampleRate || voicePromptSha256(pcm, sampleRate, ref.transcript) !== ref.sha256) {
    throw new AppError('store-corrupt', `${what}: the audio does not match its hash ${ref.sha256.slice(0, 12)}…`);
  }
  return { samples: pcm24ToFloat(pcm), sampleRate, transcript: ref.transcript };
}
