// Shared by the store-service tests: both real SQLite stores in a temp folder, and takes put
// straight into the cache with synthetic audio (no engine needed).
import { openProjectStore } from '../store/project-store.ts';
import { openTakeStore } from '../store/take-store.ts';
import { sampleKeyInput, speechLikeAudio, tempDir } from '../store/testing.ts';
import type { LineRef, TakeRecord } from '../store/types.ts';
import type { AppEvent } from '../../src-shared/api.ts';
import type { StoreBackend } from './project-service.ts';

export interface TestStores extends StoreBackend {
  dir: string;
  close(): void;
}

/** Opens both stores in `dir` (a new temp folder by default). */
export async function openTestStores(dir = tempDir('store-services-')): Promise<TestStores> {
  const takes = await openTakeStore(dir);
  const projects = await openProjectStore(dir);
  return {
    dir,
    takes,
    projects,
    close() {
      takes.close();
      projects.close();
    },
  };
}

/** An installed model as the engine names it: the model store's folder name. */
const TEST_MODEL = { id: 'dia-1.6b-0626', weightsSha256: 'ab'.repeat(32), precision: 'int4', deviceClass: 'cpu' } as const;

/** Stores a take for `line` as the engine would after rendering it (seed picks the audio). */
export function putTestTake(stores: StoreBackend, line: LineRef, seed: number, seconds = 0.5, speaker = 'S1'): TakeRecord {
  return stores.takes.putTake({
    keyInput: sampleKeyInput({ model: TEST_MODEL, seed, speaker, normalizedText: `[${speaker}] ${line.text}` }),
    line,
    audio: speechLikeAudio(seconds, seed),
    sampleRate: 44_100,
    metrics: { generationMs: seconds * 2000, ttfaMs: 300, steps: Math.round(seconds * 86) },
  });
}

/** Collects events and lets a test wait for the one that ends a stream. */
export class EventLog {
  readonly events: AppEvent[] = [];
  private waiters: Array<{ test: (e: AppEvent) => boolean; resolve: (e: AppEvent) => void }> = [];

  emit(event: AppEvent): void {
    this.events.push(event);
    for (const w of this.waiters.filter((x) => x.test(event))) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve(event);
    }
  }

  next(test: (e: AppEvent) => boolean): Promise<AppEvent> {
    const seen = this.events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }
}
