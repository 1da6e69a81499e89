// The browser around the renderer state for tests in Node: an AudioContext whose worklet player
// plays instantly (a stream drains as soon as it is ended), localStorage and window. Loaded before
// any state module, which reach for `window` as they load.
import type { PlayerCommand, PlayerReport } from '../audio/player-messages.ts';

/** Commands the player worklet was sent, in order. */
export const workletCommands: PlayerCommand[] = [];

/** Holds the player's start (the worklet module loading) until `release` is called. */
export const playerStart = { hold: false, release: () => {} };

class TestAudioContext {
  state = 'running';
  sampleRate: number;
  destination = {};
  audioWorklet = {
    addModule: (): Promise<void> => (playerStart.hold ? new Promise<void>((resolve) => (playerStart.release = resolve)) : Promise.resolve()),
  };
  constructor(options: { sampleRate: number }) {
    this.sampleRate = options.sampleRate;
  }
  resume(): Promise<void> {
    return Promise.resolve();
  }
}

class TestWorkletNode {
  port: { postMessage: (cmd: PlayerCommand) => void; onmessage: ((e: { data: PlayerReport }) => void) | null } = {
    postMessage: (cmd) => {
      workletCommands.push(cmd);
      // Everything queued plays at once: an ended stream is drained right away.
      if (cmd.type === 'end') {
        const report: PlayerReport = { type: 'stats', stream: cmd.stream, received: 0, played: 0, buffered: 0, drained: true, underruns: 0 };
        queueMicrotask(() => this.port.onmessage?.({ data: report }));
      }
    },
    onmessage: null,
  };
  connect(): void {}
}

const kept = new Map<string, string>();
Object.assign(globalThis, {
  window: globalThis,
  Node: class {},
  AudioContext: TestAudioContext,
  AudioWorkletNode: TestWorkletNode,
  localStorage: { getItem: (k: string) => kept.get(k) ?? null, setItem: (k: string, v: string) => void kept.set(k, v), removeItem: (k: string) => void kept.delete(k) },
});
