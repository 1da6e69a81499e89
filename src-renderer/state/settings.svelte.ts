// Generation settings of the open project (sampling, seed, long-line passes, context carry-over),
// edited in the settings panel. A change is checked against the API's schema before it is kept,
// then saved with the project; it applies to takes rendered from then on.
import * as v from 'valibot';
import type { ProjectSettings } from '../../src-shared/api.ts';
import { ProjectSettingsSchema } from '../../src-shared/api/projects.ts';
import { MAX_TOKENS_RANGE } from '../../src-shared/api/common.ts';
import { DEFAULT_CHUNKING, DIA_FRAMES_PER_SECOND, REFERENCE_SAMPLING } from '../../src-shared/render-defaults.ts';
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

/** Decoder steps as the seconds of audio the settings panel shows (one decimal). */
export function stepsToSeconds(steps: number): string {
  return (steps / DIA_FRAMES_PER_SECOND).toFixed(1);
}

/** The range the Longest pass field offers: the step bounds as shown, each converted back within them. */
export const PASS_SECONDS = { min: Number(stepsToSeconds(MAX_TOKENS_RANGE.min)), max: Number(stepsToSeconds(MAX_TOKENS_RANGE.max)) } as const;

/**
 * The settings form: why the last change of each field was refused (for the project it was made
 * in), and a revision that makes the fields anew, so none keeps showing a value that was refused
 * (an input whose bound value did not change is not rewritten).
 */
export const settingsForm = $state<{ errors: Record<string, string>; projectId: string | null; revision: number }>({
  errors: {},
  projectId: null,
  revision: 0,
});

/** The form's errors, for the open project only. */
export function settingsErrors(): Record<string, string> {
  return settingsForm.projectId === project.id ? settingsForm.errors : {};
}

function setError(label: string, refused: string | null): string | null {
  const rest = Object.fromEntries(Object.entries(settingsErrors()).filter(([k]) => k !== label));
  settingsForm.errors = refused === null ? rest : { ...rest, [label]: refused };
  settingsForm.projectId = project.id;
  return refused;
}

/** Applies a change of the field labelled `label`; returns (and keeps under that label) why it was refused. */
export function applySetting(label: string, change: (current: ProjectSettings) => ProjectSettings): string | null {
  return setError(label, updateSettings(change)?.replace(/^[\w.]+: /, '') ?? null);
}

/** Sets the longest pass from seconds; any value in PASS_SECONDS is kept, clamped to whole steps in range. */
export function applyPassSeconds(seconds: number): string | null {
  const range = `${PASS_SECONDS.min} to ${PASS_SECONDS.max}`;
  if (!Number.isFinite(seconds)) return setError('Longest pass', `needs a number of seconds, ${range}`);
  if (seconds < PASS_SECONDS.min || seconds > PASS_SECONDS.max) return setError('Longest pass', `must be ${range} seconds`);
  const steps = Math.min(MAX_TOKENS_RANGE.max, Math.max(MAX_TOKENS_RANGE.min, Math.round(seconds * DIA_FRAMES_PER_SECOND)));
  return applySetting('Longest pass', (s) => ({ ...s, sampling: { ...s.sampling, maxTokens: steps } }));
}

/** Reset to defaults: the fields show the defaults, and earlier refusals are gone. */
export function resetSettingsForm(): void {
  settingsForm.errors = {};
  settingsForm.revision++;
  setError('Reset', resetSettings());
}

/** The panel opens: it shows the saved values, without the refusals of its last visit. */
export function openSettingsForm(): void {
  settingsForm.errors = {};
  settingsForm.revision++;
}
