// Generation settings of the open project (sampling, seed, long-line passes, context carry-over),
// edited in the settings panel. A change is checked against the API's schema before it is kept,
// then saved with the project; it applies to takes rendered from then on.
import * as v from 'valibot';
import type { ProjectSettings } from '../../src-shared/api.ts';
import { ProjectSettingsSchema } from '../../src-shared/api/projects.ts';
import { DEFAULT_CHUNKING, REFERENCE_SAMPLING } from '../../src-shared/render-defaults.ts';
import { project } from './project.svelte.ts';

/** Applies `change` to the settings; returns why it was refused, or null when it was kept. */
export function updateSettings(change: (current: ProjectSettings) => ProjectSettings): string | null {
  if (!project.settings) return 'No project is open';
  const next = v.safeParse(ProjectSettingsSchema, change(structuredClone(project.settings)));
  if (!next.success) {
    const issue = next.issues[0];
    const where = v.getDotPath(issue);
    return `${where ? `${where}: ` : ''}${issue.message}`;
  }
  project.settings = next.output;
  return null;
}

/** The reference defaults, keeping the sampler order of the model the project was made for. */
export function resetSettings(): string | null {
  return updateSettings((s) => ({
    ...s,
    sampling: { ...REFERENCE_SAMPLING, order: s.sampling.order },
    chunking: { ...DEFAULT_CHUNKING },
    seed: null,
    carryContext: false,
  }));
}
