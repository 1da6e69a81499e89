// Playout policy of the streaming player over a SampleQueue: the first audio of a stream plays as
// soon as it arrives (time to first audio matters most), but when a render falls behind real time
// and the queue runs dry, the tail is faded out (no click), playback waits until a little audio is
// buffered again (one gap instead of a stutter of many) and resumes with a fade-in.
import { SampleQueue } from './sample-queue.ts';

/** Fade length at an underrun: about 1.5 ms at 44.1 kHz, too short to hear as a fade. */
const FADE_SAMPLES = 64;
/** Audio to gather after an underrun before playing again. */
const REBUFFER_SECONDS = 0.15;

export class Playout {
  readonly queue: SampleQueue;
  private readonly rebuffer: number;
  /** Some audio of this stream has played. */
  private started = false;
  /** Ran dry before the stream ended: waiting for `rebuffer` samples. */
  private starved = false;
  private fadeInNext = false;
  underruns = 0;

  constructor(outputRate: number) {
    this.queue = new SampleQueue(outputRate);
    this.rebuffer = Math.round(REBUFFER_SECONDS * outputRate);
  }

  /** A new stream: nothing queued, nothing played. */
  reset(): void {
    this.queue.clear();
    this.started = false;
    this.starved = false;
    this.fadeInNext = false;
  }

  /**
   * Fills `out` (silence where there is no audio to play) and returns the frames that carried audio.
   * `ended`: no more chunks will come, so whatever is queued plays out without waiting.
   */
  read(out: Float32Array, ended: boolean): number {
    if (this.starved && !ended && this.queue.available < this.rebuffer) {
      out.fill(0);
      return 0;
    }
    this.starved = false;
    const n = this.queue.read(out);
    if (n > 0 && this.fadeInNext) {
      const f = Math.min(FADE_SAMPLES, n);
      for (let i = 0; i < f; i++) out[i] *= (i + 1) / (f + 1);
      this.fadeInNext = false;
    }
    if (n > 0) this.started = true;
    if (this.started && n < out.length && !ended) {
      // An underrun: fade what this block still played, then gather audio before going on.
      const f = Math.min(FADE_SAMPLES, n);
      for (let i = 0; i < f; i++) out[n - f + i] *= (f - i) / (f + 1);
      this.starved = true;
      this.fadeInNext = true;
      if (n > 0) this.underruns++;
    }
    return n;
  }
}
