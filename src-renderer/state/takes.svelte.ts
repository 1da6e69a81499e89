// Takes of each line as the take cache lists them (seed, length, RTF, which one is chosen),
// refreshed when a render of the line finishes and after choosing or deleting a take.
import type { AppApi, LineRef, TakeSummary } from '../../src-shared/api.ts';
import { describeError } from './errors.ts';
import { notify } from './notices.svelte.ts';
import { project } from './project.svelte.ts';
import { isTakeOfLine, type LineVoicing } from './readout.ts';

/** Take lookups running at once while a project opens. */
const LOOKUP_WORKERS = 3;

export const takes = $state<{ byLine: Record<string, TakeSummary[]> }>({ byLine: {} });

let api: AppApi | null = null;
/** Counts the take loads started by opening projects; a newer one stops the older one's workers. */
let loadGeneration = 0;

export function connectTakes(client: AppApi): void {
  api = client;
}

/**
 * The chosen take of a line, if it was rendered from the line as it is now. A line edited in place
 * (wording or speaker) keeps its id (and its takes), but a take of the earlier line is no longer
 * its audio.
 */
export function chosenTake(line: LineVoicing & { id: string }): TakeSummary | undefined {
  return takes.byLine[line.id]?.find((t) => t.chosen && isTakeOfLine(t, line));
}

export async function refreshTakes(line: LineRef): Promise<void> {
  if (!api) return;
  try {
    // Newest first: the take just made is on top.
    const list = (await api.listTakes(line)).sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
    // Line ids are content hashes shared between projects: a reply for a project left meanwhile
    // would show that project's takes on a same-text line of the open one.
    if (line.projectId === project.id) takes.byLine[line.lineId] = list;
  } catch (err) {
    if (line.projectId === project.id) notify('error', `Cannot list the takes of line "${line.text.slice(0, 40)}": ${describeError(err)}`);
  }
}

/** The line's takes, looked up first when they are not known yet (a line whose lookup is still queued). */
export async function ensureTakes(line: LineRef): Promise<void> {
  if (takes.byLine[line.lineId] === undefined) await refreshTakes(line);
}

/**
 * Loads the takes of an opened project's lines, a few at a time, so cached lines show as such.
 * Opening another project stops the lookups of this one.
 */
export async function loadTakesOf(lines: readonly LineRef[]): Promise<void> {
  const generation = ++loadGeneration;
  const queue = [...lines];
  const worker = async (): Promise<void> => {
    for (let line = queue.shift(); line && generation === loadGeneration; line = queue.shift()) await ensureTakes(line);
  };
  await Promise.all(Array.from({ length: LOOKUP_WORKERS }, worker));
}

export async function chooseTake(line: LineRef, takeId: number): Promise<void> {
  if (!api) return;
  try {
    await api.chooseTake({ line, takeId });
  } catch (err) {
    notify('error', `Cannot choose take ${takeId}: ${describeError(err)}`);
  }
  await refreshTakes(line);
}

export async function deleteTake(line: LineRef, takeId: number): Promise<void> {
  if (!api) return;
  try {
    await api.deleteTake({ takeId });
  } catch (err) {
    notify('error', `Cannot delete take ${takeId}: ${describeError(err)}`);
  }
  await refreshTakes(line);
}
