// Playout policy of the streaming player over a SampleQueue: the first audio of a stream plays as
// soon as it arrives (time to first audio matters most), but when a render falls behind real time
// and the queue runs dry, playback waits until some audio is buffered again and resumes. The wait
// doubles at each underrun of a stream, so a render several times slower than real time plays in a
// few longer runs instead of a stutter of short ones.
// Nothing ever stops dead or starts at full level: where the audio is cut (an underrun, Stop, a
// new stream replacing the one playing) the last output value decays to zero over a few samples,
// and audio starting (a stream, a resume) fades in, so there is no click. Queued samples are never
// dropped or repeated; the decay is added on top of what follows and is not counted as played.
// The natural end of a stream decays the same way after its last sample.
import { SampleQueue } from './sample-queue.ts';

/** Fade length: about 1.5 ms at 44.1 kHz, too short to hear as a fade. */
const FADE_SAMPLES = 64;
/** Audio to gather after the first underrun of a stream before playing again. */
const REBUFFER_SECONDS = 0.15;
/** The most the wait grows to. */
const MAX_REBUFFER_SECONDS = 2.4;

export class Playout {
  readonly queue: SampleQueue;
  /** Seconds of audio to gather before playing again after an underrun; doubled at each (half before the first). */
  private rebuffer = REBUFFER_SECONDS / 2;
  /** Some audio of this stream has played. */
  private started = false;
  /** Ran dry before the stream ended: waiting for `rebuffer` seconds of audio. */
  private starved = false;
  /** Samples of the fade-in already played (FADE_SAMPLES: none in progress). */
  private fadeIn = 0;
  /** The value the cut-off audio decays from, and how much of the decay was played. */
  private tail = 0;
  private tailAt = FADE_SAMPLES;
  /** The last value written to the output. */
  private lastOut = 0;
  underruns = 0;

  /** Silent because the stream ran dry before its end, until enough audio is buffered again. */
  get waiting(): boolean {
    return this.starved;
  }

  constructor(outputRate: number) {
    this.queue = new SampleQueue(outputRate);
  }

  /** A new stream (or none, on Stop): nothing queued; whatever was playing decays instead of stopping dead. */
  reset(): void {
    this.queue.clear();
    this.started = false;
    this.starved = false;
    this.fadeIn = 0;
    this.rebuffer = REBUFFER_SECONDS / 2;
    this.cut(this.lastOut);
  }

  /**
   * Fills `out` (silence where there is no audio to play) and returns the frames that carried audio.
   * `ended`: no more chunks will come, so whatever is queued plays out without waiting.
   */
  read(out: Float32Array, ended: boolean): number {
    let n = 0;
    let ranOut = false;
    if (this.starved && !ended && this.queue.availableSeconds < this.rebuffer) {
      out.fill(0);
    } else {
      this.starved = false;
      n = this.queue.read(out);
      for (let i = 0; i < n && this.fadeIn < FADE_SAMPLES; i++) out[i] *= ++this.fadeIn / (FADE_SAMPLES + 1);
      if (n > 0) this.started = true;
      ranOut = this.started && n < out.length;
    }
    // A decay still going (Stop, a new stream, an earlier block's underrun) runs under what plays.
    this.decay(out, 0, ranOut ? n : out.length);
    if (ranOut) {
      // The audio stops here (an underrun, or the stream's end): decay from the last sample.
      this.cut(n > 0 ? out[n - 1] : this.lastOut);
      this.decay(out, n, out.length);
      this.fadeIn = 0;
      if (ended) {
        this.started = false; // played out: nothing more to cut
      } else {
        // Gather more audio before going on (longer each time), and fade back in then.
        this.starved = true;
        this.underruns++;
        this.rebuffer = Math.min(2 * this.rebuffer, MAX_REBUFFER_SECONDS);
      }
    }
    this.lastOut = out.length > 0 ? out[out.length - 1] : 0;
    return n;
  }

  /** Starts a decay from `value` (the audio stops there). */
  private cut(value: number): void {
    this.tail = value;
    this.tailAt = value === 0 ? FADE_SAMPLES : 0;
  }

  /** Adds what is left of the decay to `out[from]` … `out[to - 1]`. */
  private decay(out: Float32Array, from: number, to: number): void {
    for (let i = from; i < to && this.tailAt < FADE_SAMPLES; i++) {
      out[i] += this.tail * (FADE_SAMPLES - this.tailAt++) / (FADE_SAMPLES + 1);
    }
  }
}
