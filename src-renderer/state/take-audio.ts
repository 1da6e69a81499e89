// Whole takes in memory, read from the take cache: what the waveform draws and what A/B compare
// and "play from a point" play from. The most recently used few are kept; a take is immutable, so
// a kept copy never goes stale (a deleted take is simply dropped).
import type { AppApi } from '../../src-shared/api.ts';
import { AppError } from '../../src-shared/errors.ts';
import { follow } from './audio-routes.ts';

export interface TakeAudio {
  takeId: number;
  samples: Float32Array;
  sampleRate: number;
}

/** Takes kept in memory: a minute of audio is about 10 MB. */
const MAX_KEPT = 8;

const kept = new Map<number, Promise<TakeAudio>>();
let api: AppApi | null = null;

export function connectTakeAudio(client: AppApi): void {
  api = client;
}

/** The take's samples, from memory or read once from the take cache. */
export function loadTakeAudio(takeId: number): Promise<TakeAudio> {
  const known = kept.get(takeId);
  if (known) {
    kept.delete(takeId); // most recently used goes last
    kept.set(takeId, known);
    return known;
  }
  const loading = read(takeId);
  kept.set(takeId, loading);
  loading.catch(() => kept.delete(takeId));
  while (kept.size > MAX_KEPT) kept.delete(kept.keys().next().value as number);
  return loading;
}

/** Forgets a take (it was deleted). */
export function forgetTakeAudio(takeId: number): void {
  kept.delete(takeId);
}

async function read(takeId: number): Promise<TakeAudio> {
  if (!api) throw new AppError('unavailable', 'Not connected to Dia Studio');
  const { streamId, sampleRate, sampleCount } = await api.getTakeAudio({ takeId });
  const samples = new Float32Array(sampleCount);
  return new Promise<TakeAudio>((resolve, reject) => {
    let filled = 0;
    follow(streamId, {
      push(chunk) {
        const n = Math.min(chunk.length, sampleCount - filled);
        samples.set(chunk.subarray(0, n), filled);
        filled += n;
      },
      end() {
        resolve({ takeId, samples: filled === sampleCount ? samples : samples.subarray(0, filled), sampleRate });
      },
      fail(error) {
        reject(new AppError(error.code, error.message));
      },
    });
  });
}
