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
