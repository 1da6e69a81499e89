// Voice prompts: a reference clip is mixed to mono, resampled to the codec rate, padded to whole
// DAC frames (dac/audio-prep.ts, as Dia's load_audio) and encoded once; the app caches the codes
// with the speaker so every line of that speaker prefills the same frames.
import { AppError } from '../../../src-shared/errors.ts';
import { prepareVoicePrompt as prepareWaveform } from '../dac/audio-prep.ts';
import type { DacRunner } from './model-api.ts';

/** Dia recommends 5-10 s prompts; longer ones eat the 3072-row window. */
export const MAX_PROMPT_SECONDS = 20;

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
