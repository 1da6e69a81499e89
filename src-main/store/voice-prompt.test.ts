// Every stored voice prompt passes encodeVoicePrompt: what no source may store (silence) is
// refused there, and a clip over full scale is scaled down to fit, not clipped.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFlac } from './flac.ts';
import { speechLikeAudio } from './testing.ts';
import { encodeVoicePrompt, fullScaleGain } from './voice-prompt.ts';

beforeAll(loadFlac);

describe('encodeVoicePrompt', () => {
  it('refuses digital silence from any source, naming it', () => {
    const silent = { samples: new Float32Array(44_100 * 2), sampleRate: 44_100, transcript: 'Hi.' };
    expect(() => encodeVoicePrompt(silent, 'voice prompt X')).toThrow(
      'Invalid voice prompt X: it is silent (2.0 s of digital silence), so it has no voice to take; choose a clip of the speaker talking',
    );
    // Below half a 16-bit step is silence in any clip format; one step is sound.
    silent.samples[100] = 2 ** -17;
    expect(() => encodeVoicePrompt(silent, 'X')).toThrow('it is silent');
    silent.samples[100] = 2 ** -15;
    expect(encodeVoicePrompt(silent, 'X').ref.sampleCount).toBe(44_100 * 2);
  });

  it('gives the gain a clip is stored with: 1 within full scale, just under full scale over it', () => {
    const voice = speechLikeAudio(0.5, 3);
    expect(fullScaleGain(voice)).toBe(1);
    expect(fullScaleGain(Float32Array.of(0.5, -1, 1))).toBe(1);
    expect(fullScaleGain(Float32Array.of(0.5, -2, 1))).toBe((1 - 2 ** -23) / 2);
  });
});
