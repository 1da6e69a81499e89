// Test support: the browser around the stream player with its real AudioWorklet processor. The
// AudioContext and AudioWorkletNode are stand-ins, but the processor is stream-player.worklet.ts
// itself, its port messages are delivered as tasks (as a MessagePort does), and the test drives
// its render quanta by hand and gets back what it played. Import it before the player module.
import type { PlayerReport } from './player-messages.ts';

const QUANTUM = 128;

interface Port {
  onmessage: ((e: { data: unknown }) => void) | null;
  postMessage(data: unknown): void;
}

interface Processor {
  port: Port;
  process(inputs: Float32Array[][], outputs: Float32Array[][]): boolean;
}

/** Two ends of a channel: a message posted on one reaches the other's onmessage in a later task. */
function channel(): [Port, Port] {
  const a: Port = { onmessage: null, postMessage: (data) => setTimeout(() => b.onmessage?.({ data: structuredClone(data) }), 0) };
  const b: Port = { onmessage: null, postMessage: (data) => setTimeout(() => a.onmessage?.({ data: structuredClone(data) }), 0) };
  return [a, b];
}

export const harness = {
  /** The device's rate: what the AudioContext runs at, whatever rate was asked for (0: as asked). */
  deviceRate: 0,
  /** Makes the next worklet module load fail (a broken install). */
  failModule: false,
  /** State a new AudioContext starts in ('suspended': the autoplay policy held it). */
  initialState: 'running' as 'running' | 'suspended',
  context: null as FakeAudioContext | null,
  processor: null as Processor | null,
  /** Reports the processor sent, in order. */
  reports: [] as PlayerReport[],
  /** Runs `quanta` render quanta of the processor; returns the left channel it played. */
  render(quanta: number): Float32Array {
    const out = new Float32Array(quanta * QUANTUM);
    for (let q = 0; q < quanta; q++) {
      const outputs = [[new Float32Array(QUANTUM), new Float32Array(QUANTUM)]];
      this.processor!.process([], outputs);
      out.set(outputs[0][0], q * QUANTUM);
    }
    return out;
  },
  /** Lets the port messages posted so far (and the ones they lead to) arrive. */
  async deliver(): Promise<void> {
    for (let i = 0; i < 4; i++) await new Promise((resolve) => setTimeout(resolve, 0));
  },
};

// The AudioWorkletGlobalScope the processor module expects.
let registered: (new () => Processor) | null = null;
let nextPort: Port | null = null;
class AudioWorkletProcessor {
  readonly port: Port;
  constructor() {
    this.port = nextPort!;
  }
}

class FakeAudioContext {
  state: 'running' | 'suspended' | 'closed';
  readonly sampleRate: number;
  readonly destination = {};
  readonly audioWorklet = {
    addModule: async (): Promise<void> => {
      if (harness.failModule) {
        harness.failModule = false;
        throw new Error('Unable to load a worklet\'s module.');
      }
      await import('./stream-player.worklet.ts');
    },
  };
  constructor(options: { sampleRate?: number } = {}) {
    this.sampleRate = harness.deviceRate || options.sampleRate || 48_000;
    this.state = harness.initialState;
    Object.assign(globalThis, { sampleRate: this.sampleRate });
    harness.context = this;
  }
  async resume(): Promise<void> {
    this.state = 'running';
  }
  async close(): Promise<void> {
    this.state = 'closed';
  }
}

class FakeWorkletNode {
  readonly port: Port;
  constructor() {
    const [mine, theirs] = channel();
    this.port = mine;
    nextPort = theirs;
    harness.processor = new registered!();
    // Record the reports as the main thread receives them, then hand them to its own handler.
    let handler: Port['onmessage'] = null;
    Object.defineProperty(this.port, 'onmessage', {
      get: (): Port['onmessage'] => (e) => {
        harness.reports.push(e.data as PlayerReport);
        handler?.(e);
      },
      set: (h: Port['onmessage']) => (handler = h),
    });
  }
  connect(): void {}
}

Object.assign(globalThis, {
  window: globalThis,
  AudioWorkletProcessor,
  registerProcessor: (_name: string, ctor: new () => Processor) => (registered = ctor),
  AudioContext: FakeAudioContext,
  AudioWorkletNode: FakeWorkletNode,
});
