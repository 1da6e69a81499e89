// AudioWorklet processor of the streaming player: the main thread posts audio chunks through the
// port as they arrive from the engine; the processor plays them back to back from a SampleQueue
// and reports how much it received and played (for the UI and as a test hook).
import { Playout } from './playout.ts';
import type { PlayerCommand, PlayerReport } from './player-messages.ts';

// The AudioWorkletGlobalScope is not in TypeScript's DOM lib: declare what this file uses.
declare const sampleRate: number;
declare abstract class AudioWorkletProcessor {
  readonly port: MessagePort;
}
declare function registerProcessor(name: string, ctor: new () => AudioWorkletProcessor): void;

/** Render quanta (128 frames each) between reports: about 35 ms at 44.1 kHz. */
const REPORT_EVERY = 12;

class StreamPlayerProcessor extends AudioWorkletProcessor {
  private readonly playout = new Playout(sampleRate);
  private stream = 0;
  private received = 0;
  private played = 0;
  /** No more chunks will come for this stream: report 'drained' once the queue runs dry. */
  private ended = false;
  /** 'drained' is still to be reported for the ended stream (also when it ran dry before 'end'). */
  private drainPending = false;
  private quanta = 0;

  constructor() {
    super();
    this.port.onmessage = (e: MessageEvent<PlayerCommand>) => this.command(e.data);
  }

  private command(cmd: PlayerCommand): void {
    switch (cmd.type) {
      case 'start':
        this.playout.reset();
        this.stream = cmd.stream;
        this.ended = false;
        this.drainPending = false;
        // Tells the main thread the played total this stream counts from (its reports may lag).
        this.report(false);
        break;
      case 'chunk':
        if (cmd.stream !== this.stream) return;
        this.playout.queue.push(cmd.samples, cmd.sampleRate);
        this.received += cmd.samples.length;
        break;
      case 'end':
        if (cmd.stream === this.stream) this.ended = this.drainPending = true;
        break;
      case 'stop':
        this.playout.reset();
        this.ended = this.drainPending = false;
        this.stream = 0;
        this.report(false);
        break;
    }
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const channels = outputs[0];
    if (channels.length === 0) return true;
    const hadAudio = this.playout.queue.available > 0;
    const waiting = this.playout.waiting;
    const underruns = this.playout.underruns;
    this.played += this.playout.read(channels[0], this.ended);
    for (let c = 1; c < channels.length; c++) channels[c].set(channels[0]);
    const drained = this.drainPending && this.playout.queue.available === 0;
    if (drained) this.drainPending = false;
    // Also when it runs dry or plays on: the playhead must show where the audio stopped for the
    // whole gap, and the gap be shown as a wait for the render while it lasts.
    const ranDry = this.playout.underruns !== underruns;
    const waitChanged = this.playout.waiting !== waiting;
    if (drained || ranDry || waitChanged || (hadAudio && ++this.quanta % REPORT_EVERY === 0)) this.report(drained);
    return true;
  }

  private report(drained: boolean): void {
    const msg: PlayerReport = { type: 'stats', stream: this.stream, received: this.received, played: this.played, buffered: this.playout.queue.available, drained, underruns: this.playout.underruns, waiting: this.playout.waiting };
    this.port.postMessage(msg);
  }
}

registerProcessor('dia-stream-player', StreamPlayerProcessor);
