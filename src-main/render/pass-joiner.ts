// Joins the audio of consecutive model passes without clicks. Each pass is a separate DAC decode,
// so the waveform jumps at the seam: the last 10 ms of a pass that another pass follows is held
// back and faded out, and the next pass fades in over its first 10 ms. Everything else streams
// through untouched, and a line rendered in one pass is bit-identical to its decode.
import { concatFloat32 } from '../audio/samples.ts';

export const JOIN_FADE_SAMPLES = 441; // 10 ms at 44.1 kHz

export class PassJoiner {
  private readonly emit: (samples: Float32Array) => void;
  private readonly parts: Float32Array[] = [];
  private held = new Float32Array(0);
  private passIndex = 0;
  private passSamples = 0;

  constructor(emit: (samples: Float32Array) => void) {
    this.emit = emit;
  }

  push(samples: Float32Array): void {
    const chunk = samples.slice();
    if (this.passIndex > 0) {
      for (let i = 0; i < chunk.length && this.passSamples + i < JOIN_FADE_SAMPLES; i++) {
        chunk[i] *= (this.passSamples + i + 1) / (JOIN_FADE_SAMPLES + 1);
      }
    }
    this.passSamples += chunk.length;
    const all = new Float32Array(this.held.length + chunk.length);
    all.set(this.held);
    all.set(chunk, this.held.length);
    const cut = Math.max(0, all.length - JOIN_FADE_SAMPLES);
    if (cut > 0) this.out(all.slice(0, cut));
    this.held = all.slice(cut);
  }

  /** Ends a pass; when another follows, its held tail fades out. */
  endPass(last: boolean): void {
    if (!last) {
      const n = this.held.length;
      for (let i = 0; i < n; i++) this.held[i] *= (n - i) / (n + 1);
    }
    if (this.held.length) this.out(this.held);
    this.held = new Float32Array(0);
    this.passIndex++;
    this.passSamples = 0;
  }

  private out(samples: Float32Array): void {
    this.parts.push(samples);
    this.emit(samples);
  }

  /** The whole line's audio, as streamed. */
  finish(): Float32Array {
    return concatFloat32(this.parts);
  }
}
