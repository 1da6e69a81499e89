// Messages between the stream player (main thread) and its AudioWorklet processor.

/** Main thread -> processor. `stream` tells chunks of a stopped stream from the current one's. */
export type PlayerCommand =
  | { type: 'start'; stream: number }
  | { type: 'chunk'; stream: number; samples: Float32Array; sampleRate: number }
  | { type: 'end'; stream: number }
  | { type: 'stop' };

/** Processor -> main thread: running totals in samples since the player was created. */
export interface PlayerReport {
  type: 'stats';
  stream: number;
  received: number;
  played: number;
  /** Samples still queued (at the stream's own rate, like `received`). */
  buffered: number;
  /** The stream was ended and everything queued has been played. */
  drained: boolean;
  /** Times playback ran dry before a stream ended (a render slower than real time). */
  underruns: number;
  /** The stream ran dry before its end and is silent until more audio comes (absent: false). */
  waiting?: boolean;
}
