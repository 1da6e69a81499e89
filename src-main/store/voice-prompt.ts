// Voice prompts: a speaker's reference clip plus its transcript. The hash covers what the model
// will be fed after a save/load round trip (the 24-bit samples, their rate and the transcript),
// so it is stable across saves and is what a take key refers to.
import { createHash } from 'node:crypto';
import { decodeFlac, encodeFlac } from './flac.ts';
import { checkAudio, floatToPcm24, pcm24ToFloat, PCM_SCALE } from './pcm.ts';
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

/** The largest 24-bit sample, as a float. */
const FULL_SCALE = (PCM_SCALE - 1) / PCM_SCALE;

/** Below half a 16-bit step: what any clip format stores as zero. */
const SILENCE = 2 ** -16;

/**
 * Refuses what cannot be a voice prompt, naming `what`: audio checkAudio refuses, or digital
 * silence (a muted take, the silent channel of a recording), which gives the model no voice.
 */
export function checkVoiceClip(samples: Float32Array, sampleRate: number, what: string): void {
  checkAudio(samples, sampleRate, what);
  for (let i = 0; i < samples.length; i++) if (Math.abs(samples[i]) >= SILENCE) return;
  throw new AppError('invalid-input', `Invalid ${what}: it is silent (${(samples.length / sampleRate).toFixed(1)} s of digital silence), so it has no voice to take; choose a clip of the speaker talking`);
}

/**
 * The gain a clip is stored with: a clip louder than full scale (a float WAV may be) is scaled
 * down to peak just under it, so the 24-bit store keeps its shape instead of clipping it; any
 * other clip keeps gain 1.
 */
export function fullScaleGain(samples: Float32Array): number {
  let peak = 0;
  for (let i = 0; i < samples.length; i++) peak = Math.max(peak, Math.abs(samples[i]));
  return peak > 1 ? FULL_SCALE / peak : 1;
}

/** Validates a clip and turns it into its stored form (a clip over full scale scaled down to it). */
export function encodeVoicePrompt(clip: VoicePromptClip, what: string): EncodedVoicePrompt {
  if (typeof clip !== 'object' || clip === null) throw new AppError('invalid-input', `Invalid ${what}: expected { samples, sampleRate, transcript }`);
  checkVoiceClip(clip.samples, clip.sampleRate, what);
  const transcript = parseInput(wellFormedText(MAX_TRANSCRIPT_CHARS), clip.transcript, `${what} transcript`);
  const gain = fullScaleGain(clip.samples);
  const pcm = floatToPcm24(gain === 1 ? clip.samples : clip.samples.map((x) => x * gain));
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
