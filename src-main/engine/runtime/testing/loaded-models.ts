// Test support: models a test file loads, with the three lines both end-to-end engine tests
// render, released when the file finishes.
import { afterAll } from 'vitest';
import type { LoadedModel } from '../load-model.ts';

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
