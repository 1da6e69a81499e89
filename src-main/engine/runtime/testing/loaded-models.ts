// Test support: models a test file loads, released when the file finishes, and the three lines
// the end-to-end engine tests render through the scheduler, two per batch.
import { afterAll } from 'vitest';
import type { LoadedModel } from '../load-model.ts';
import { GenerationScheduler } from '../scheduler.ts';
import type { RenderJob } from '../../host/protocol.ts';

export const THREE_LINES = ['[S1] First line here.', '[S2] A second, longer line of dialogue to render.', '[S1] Third.'];

/** Call at file level; returns `keep`, which registers a model for release and returns it. */
export function loadedModels(): (...models: LoadedModel[]) => void {
  const opened: LoadedModel[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((m) => m.release()));
  });
  return (...models) => {
    opened.push(...models);
  };
}

/** The three lines as seeded jobs (seed `seed + i`, at most `maxTokens[i]` rows). */
export function threeLineJobs(seed: number, maxTokens: [number, number, number]): RenderJob[] {
  return THREE_LINES.map((text, i) => ({
    jobId: `line-${i}`,
    text,
    sampling: { guidanceScale: 3, temperature: 1.2, topP: 0.95, topK: 45, order: '0626', seed: seed + i, maxTokens: maxTokens[i] },
  }));
}

export interface Rendered {
  codes: number[][];
  /** Each line's streamed audio, joined. */
  audio: Float32Array[];
  stats: GenerationScheduler['stats'];
}

/** Renders `jobs` together through one scheduler, two lines per batch: a line joins when one ends. */
export async function renderJobs(m: LoadedModel, jobs: RenderJob[]): Promise<Rendered> {
  const scheduler = new GenerationScheduler(m.dia, m.dac, { maxBatch: 2 });
  const chunks: Float32Array[][] = jobs.map(() => []);
  const results = await Promise.all(jobs.map((job, i) => scheduler.submit(job, {
    progress: () => undefined,
    audio: (_seq, samples) => chunks[i].push(samples.slice()),
    metrics: () => undefined,
  })));
  const audio = chunks.map((parts) => {
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
    return out;
  });
  return { codes: results.map((r) => Array.from(r.codes)), audio, stats: scheduler.stats };
}
