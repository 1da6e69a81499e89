// Takes of each line as the take cache lists them (seed, length, RTF, which one is chosen),
// refreshed when a render of the line finishes and after choosing or deleting a take.
import type { AppApi, LineRef, TakeSummary } from '../../src-shared/api.ts';
import { describeError } from './errors.ts';
import { notify } from './notices.svelte.ts';

/** Lines whose takes are looked up when a project opens (the rest load when selected). */
const MAX_STARTUP_LOOKUPS = 200;

export const takes = $state<{ byLine: Record<string, TakeSummary[]> }>({ byLine: {} });

let api: AppApi | null = null;

export function connectTakes(client: AppApi): void {
  api = client;
}

/**
 * The chosen take of a line, if it was rendered from the line's current text. A line edited in
 * place keeps its id (and its takes), but a take of the earlier wording is no longer its audio.
 */
export function chosenTake(lineId: string, text: string): TakeSummary | undefined {
  return takes.byLine[lineId]?.find((t) => t.chosen && t.lineText === text);
}

export async function refreshTakes(line: LineRef): Promise<void> {
  if (!api) return;
  try {
    // Newest first: the take just made is on top.
    takes.byLine[line.lineId] = (await api.listTakes(line)).sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
  } catch (err) {
    notify('error', `Cannot list the takes of line "${line.text.slice(0, 40)}": ${describeError(err)}`);
  }
}

/** Loads the takes of an opened project's lines, a few at a time, so cached lines show as such. */
export async function loadTakesOf(lines: readonly LineRef[]): Promise<void> {
  const queue = lines.slice(0, MAX_STARTUP_LOOKUPS);
  const worker = async (): Promise<void> => {
    for (let line = queue.shift(); line; line = queue.shift()) await refreshTakes(line);
  };
  await Promise.all([worker(), worker(), worker()]);
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
