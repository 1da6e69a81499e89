// Takes of each line as the take cache lists them (seed, length, RTF, which one is chosen),
// refreshed when a render of the line finishes, after choosing or deleting a take, after a save
// that put another take of an edited line in use, and after Settings cleared or evicted takes.
import type { AppApi, LineRef, TakeSummary } from '../../src-shared/api.ts';
import { takeInUse, type LineVoicing } from '../../src-shared/take-in-use.ts';
import { describeError } from './errors.ts';
import { notify } from './notices.svelte.ts';
import { flushSave, onEditsSaved, project } from './project.svelte.ts';
import { renders, type LineRender } from './renders.svelte.ts';
import { script } from './script.svelte.ts';
import { forgetTakeAudio } from './take-audio.ts';

/** Take lookups running at once (a project opening, lines listed again after the cache deleted takes). */
const LOOKUP_WORKERS = 3;

export const takes = $state<{ byLine: Record<string, TakeSummary[]>; gone: Record<number, true> }>({
  byLine: {},
  /** Takes deleted this session (ids are never reused): what still shows one, such as the waveform, lets it go. */
  gone: {},
});

let api: AppApi | null = null;
/** Counts the take loads started by opening projects; a newer one stops the older one's workers. */
let loadGeneration = 0;

export function connectTakes(client: AppApi): void {
  api = client;
}

/**
 * The take in use of a line (src-shared/take-in-use.ts): what it plays, shows and exports. A line edited
 * in place (wording or speaker) keeps its id (and its takes), but only a take of the line as it is
 * now can be its audio.
 */
export function chosenTake(line: LineVoicing & { id: string }): TakeSummary | undefined {
  const listed = takes.byLine[line.id]; // newest first
  return listed && takeInUse(listed, line, { voicingOf: (t) => ({ text: t.lineText, speaker: t.speaker }), isChosen: (t) => t.chosen, order: 'newest-first' });
}

/** The project, speaker and wording each line id was last listed again for after a save. */
const relistedAs = new Map<string, string>();

/**
 * After a save: the app core made the take in use of each edited line the cache's choice, so a
 * line whose take in use is not listed as chosen is listed again, once per wording and speaker (a
 * line the save left alone, say with a choice from before this rule, is not listed on every save).
 */
async function relistChoicesAfterSave(): Promise<void> {
  const projectId = project.id;
  // With newer edits waiting, the lines shown are not the ones saved: the next save's turn.
  if (!projectId || project.saveState !== 'saved') return;
  const stale = script.parsed.lines.filter((l) => {
    const voicing = `${projectId}\n${l.speaker}\n${l.text}`;
    if (chosenTake(l)?.chosen !== false || relistedAs.get(l.id) === voicing) return false;
    relistedAs.set(l.id, voicing);
    return true;
  });
  await Promise.all(stale.map((l) => refreshTakes({ projectId, lineId: l.id, text: l.text })));
}
onEditsSaved(() => void relistChoicesAfterSave());

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
  await forEachWithWorkers(lines, async (line) => {
    if (generation === loadGeneration) await ensureTakes(line);
  });
}

/** Runs `fn` on each item, LOOKUP_WORKERS at a time: enough to keep the lists coming, not so many that they flood the app core. */
async function forEachWithWorkers<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: LOOKUP_WORKERS }, worker));
}

export async function chooseTake(line: LineRef, takeId: number): Promise<void> {
  if (!api) return;
  try {
    // The app checks a choice against the saved line: an edit still in the autosave delay (an
    // undo back to words that have takes) is saved first, as renders do.
    await flushSave();
    await api.chooseTake({ line, takeId });
    // The line's readout now shows the take put in use, not another take rendered this session.
    if (line.projectId === project.id) forgetFinishedRenders((r, lineId) => lineId === line.lineId && r.takeId !== takeId);
  } catch (err) {
    notify('error', `Cannot choose take ${takeId}: ${describeError(err)}`);
  }
  await refreshTakes(line);
}

/**
 * Deletes a take. The app core puts the newest remaining take of each line that used it (of the
 * line's words and speaker) in use, or leaves the line with none: every line listing the take is
 * listed again, and the line at hand says which take it goes on with.
 */
export async function deleteTake(line: LineRef, takeId: number): Promise<void> {
  if (!api) return;
  const before = script.parsed.lines.find((l) => l.id === line.lineId);
  const wasInUse = before !== undefined && chosenTake(before)?.id === takeId;
  try {
    await api.deleteTake({ takeId });
  } catch (err) {
    notify('error', `Cannot delete take ${takeId}: ${describeError(err)}`);
    await refreshTakes(line);
    return;
  }
  forgetDeleted([takeId]);
  const listing = script.parsed.lines.filter((l) => l.id !== line.lineId && takes.byLine[l.id]?.some((t) => t.id === takeId));
  await Promise.all([refreshTakes(line), ...listing.map((l) => refreshTakes({ projectId: line.projectId, lineId: l.id, text: l.text }))]);
  const shown = script.parsed.lines.find((l) => l.id === line.lineId);
  if (!wasInUse || !shown || line.projectId !== project.id) return;
  const next = chosenTake(shown);
  const what = next ? `now uses take ${next.id}, the newest take of its words` : 'has no take now: Play renders a new one';
  notify('info', `Deleted take ${takeId}; line ${shown.index + 1} ${what}.`);
}

/**
 * After the cache deleted takes of its own accord (Settings: clearing unused takes, a lower limit):
 * the open project's lines that listed takes list them again, and a finished render whose take
 * went no longer describes its line (its readout shows the take in use).
 */
export async function relistAfterCacheDeletes(): Promise<void> {
  const projectId = project.id;
  if (!projectId) return;
  const listed = script.parsed.lines.filter((l) => (takes.byLine[l.id]?.length ?? 0) > 0);
  const takeIds = (): Set<number> => new Set(listed.flatMap((l) => takes.byLine[l.id]?.map((t) => t.id) ?? []));
  const before = takeIds();
  await forEachWithWorkers(listed, (l) => refreshTakes({ projectId, lineId: l.id, text: l.text }));
  if (project.id !== projectId) return;
  // Listed before and not now: deleted. A take made since the lists were read is left alone.
  const after = takeIds();
  forgetDeleted([...before].filter((id) => !after.has(id)));
}

/**
 * Deleted takes: what shows one (the waveform, an A/B comparison) lets it go, and so does a
 * finished render's readout; their audio kept in memory is dropped.
 */
function forgetDeleted(takeIds: readonly number[]): void {
  const deleted = new Set(takeIds);
  for (const id of deleted) {
    takes.gone[id] = true;
    forgetTakeAudio(id);
  }
  forgetFinishedRenders((r) => r.takeId !== null && deleted.has(r.takeId));
}

/**
 * Forgets this session's finished renders that `gone` picks: a render's figures describe the line
 * only while its take is there, else the readout falls back to the take in use.
 */
function forgetFinishedRenders(gone: (render: LineRender, lineId: string) => boolean): void {
  for (const [lineId, render] of Object.entries(renders.byLine)) if (render.status === 'done' && gone(render, lineId)) delete renders.byLine[lineId];
}
