// The playback queue of the streaming AudioWorklet: mono Float32Array chunks appended as they
// arrive, read out as one continuous signal (no gap at chunk edges), resampled with linear
// interpolation when the source rate differs from the output rate. Pure logic, no audio APIs, so
// it can be tested without a browser.

export class SampleQueue {
  private readonly chunks: Float32Array[] = [];
  /** Source samples in the queue, from the read position's chunk on. */
  private buffered = 0;
  /** Read position: index into chunks[0] plus a fraction for interpolation. */
  private offset = 0;
  private fraction = 0;
  private sourceRate: number;
  private readonly outputRate: number;

  constructor(outputRate: number) {
    this.outputRate = outputRate;
    this.sourceRate = outputRate;
  }

  /** Samples waiting to be played (source rate). */
  get available(): number {
    return this.buffered - this.offset;
  }

  /** Audio waiting to be played, in seconds (whatever the source and output rates). */
  get availableSeconds(): number {
    return this.available / this.sourceRate;
  }

  /**
   * Appends a chunk. A stream has one rate; a new rate applies to what is played from now on, which
   * is only right at the start of a stream (the player clears the queue between streams).
   */
  push(samples: Float32Array, sampleRate: number): void {
    if (!(sampleRate > 0)) throw new RangeError(`sample rate must be positive, got ${sampleRate}`);
    if (this.available === 0) this.sourceRate = sampleRate;
    if (samples.length === 0) return;
    this.chunks.push(samples);
    this.buffered += samples.length;
  }

  clear(): void {
    this.chunks.length = 0;
    this.buffered = 0;
    this.offset = 0;
    this.fraction = 0;
  }

  /**
   * Fills `out` from the queue; what the queue cannot supply is silence. Returns how many output
   * frames carried queued audio (the rest of `out` is zero).
   */
  read(out: Float32Array): number {
    if (this.sourceRate === this.outputRate) return this.copy(out);
    return this.resample(out, this.sourceRate / this.outputRate);
  }

  private copy(out: Float32Array): number {
    let written = 0;
    while (written < out.length && this.chunks.length > 0) {
      const head = this.chunks[0];
      const n = Math.min(out.length - written, head.length - this.offset);
      out.set(head.subarray(this.offset, this.offset + n), written);
      written += n;
      this.offset += n;
      if (this.offset === head.length) this.dropHead();
    }
    out.fill(0, written);
    return written;
  }

  /** Linear interpolation between the sample at the read position and the one after it. */
  private resample(out: Float32Array, step: number): number {
    let written = 0;
    // The last sample waits for its successor unless nothing more is queued behind it.
    while (written < out.length && this.available >= 2) {
      const a = this.sampleAt(0);
      const b = this.sampleAt(1);
      out[written++] = a + (b - a) * this.fraction;
      this.advance(step);
    }
    if (written < out.length && this.available === 1) {
      out[written++] = this.sampleAt(0);
      this.advance(1);
    }
    out.fill(0, written);
    return written;
  }

  private sampleAt(ahead: number): number {
    let index = this.offset + ahead;
    for (const chunk of this.chunks) {
      if (index < chunk.length) return chunk[index];
      index -= chunk.length;
    }
    return 0;
  }

  private advance(step: number): void {
    this.fraction += step;
    const whole = Math.floor(this.fraction);
    this.fraction -= whole;
    let left = whole;
    while (left > 0 && this.chunks.length > 0) {
      const n = Math.min(left, this.chunks[0].length - this.offset);
      this.offset += n;
      left -= n;
      if (this.offset === this.chunks[0].length) this.dropHead();
    }
    if (this.chunks.length === 0) this.fraction = 0;
  }

  private dropHead(): void {
    const head = this.chunks.shift();
    this.buffered -= head?.length ?? 0;
    this.offset = 0;
  }
}
