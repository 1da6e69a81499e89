// The take in use of a line (src-shared/take-in-use.ts) over the take cache's records, and the
// helpers that keep the project line and the cache's choice in step with it.
import { takeInUse as sharedTakeInUse, type LineVoicing } from '../../src-shared/take-in-use.ts';
import type { TakeStore } from '../store/take-store.ts';
import type { LineRef, LineTake } from '../store/types.ts';

/** Speaker a stored line without one is rendered as. */
export const FALLBACK_SPEAKER = 'S1';

export function lineSpeaker(line: { speakerId: string | null }): string {
  return line.speakerId ?? FALLBACK_SPEAKER;
}

/**
 * The rule over a line's takes, oldest first (as TakeStore.listTakes lists them). `isChosen` says
 * which one the line chose: the take cache's flag, or the project line's chosen take for exports.
 */
export function takeInUse<T extends Pick<LineTake, 'chosen' | 'lineText' | 'input'>>(
  takesOfLine: readonly T[],
  line: LineVoicing,
  isChosen: (t: T) => boolean = (t) => t.chosen,
): T | undefined {
  return sharedTakeInUse(takesOfLine, line, { voicingOf: (t) => ({ text: t.lineText, speaker: t.input.speaker }), isChosen, order: 'oldest-first' });
}

/** The take in use of a line as the take cache has it. */
export function findTakeInUse(takes: TakeStore, line: LineRef, speaker: string): LineTake | undefined {
  return takeInUse(takes.listTakes(line), { text: line.text, speaker });
}

/** findTakeInUse of many lines of one project, with one query of the cache: each line id's take in use. */
export function findTakesInUse(
  takes: TakeStore,
  projectId: string,
  lines: readonly { id: string; text: string; speaker: string }[],
): Map<string, LineTake> {
  const takesOf = takes.listTakesOfLines(projectId, lines.map((l) => l.id));
  const inUse = new Map<string, LineTake>();
  for (const line of lines) {
    const take = takeInUse(takesOf.get(line.id) ?? [], line);
    if (take) inUse.set(line.id, take);
  }
  return inUse;
}

/**
 * Makes the take in use the cache's choice for the line's words and speaker too, so it is never
 * evicted and the studio lists it as chosen. The cache keeps a choice per wording and speaker, so
 * this leaves the choices of the line's other words alone: a line brought back to them (an undo,
 * a reverted edit) finds the take the user chose in use again, not merely the newest.
 */
export function keepCacheChoice(takes: TakeStore, line: LineRef, inUse: LineTake | undefined): void {
  // Chosen again even when it is: that makes it the line's latest choice, the one the cache pins.
  if (inUse) takes.chooseTake(line, inUse.id);
}

/** keepCacheChoice for many lines in one write to the cache; returns the lines whose take was gone. */
export function keepCacheChoices(takes: TakeStore, inUse: readonly { line: LineRef; take: LineTake }[]): LineRef[] {
  return takes.chooseTakes(inUse.map(({ line, take }) => ({ line, takeId: take.id }))).map((c) => c.line);
}
