// The take in use of a line, one rule for the app core, the project line and exports (the renderer
// applies the same rule in src-renderer/state/readout.ts takeInUse): the line's chosen take when
// it was rendered from the line's words for the line's speaker; otherwise the newest of its takes
// that was; otherwise none. A line edited in place keeps its id (and its takes), but a take of
// other words or another speaker is not its audio.
import type { TakeStore } from '../store/take-store.ts';
import type { LineRef, LineTake } from '../store/types.ts';

/** Speaker a stored line without one is rendered as. */
export const FALLBACK_SPEAKER = 'S1';

export function lineSpeaker(line: { speakerId: string | null }): string {
  return line.speakerId ?? FALLBACK_SPEAKER;
}

/** What a take must have been rendered from to be a line's audio. */
export interface LineVoicing {
  text: string;
  speaker: string;
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
  const fits = (t: T): boolean => t.lineText === line.text && t.input.speaker === line.speaker;
  return takesOfLine.find((t) => isChosen(t) && fits(t)) ?? takesOfLine.findLast(fits);
}

/** The take in use of a line as the take cache has it. */
export function findTakeInUse(takes: TakeStore, line: LineRef, speaker: string): LineTake | undefined {
  return takeInUse(takes.listTakes(line), { text: line.text, speaker });
}

/**
 * Makes the take in use the cache's choice too, so a chosen take is never evicted and the studio
 * lists it as chosen. With none, the cache keeps its choice: a line brought back to the words
 * of that take (an undo, a reverted edit) finds it in use again.
 */
export function keepCacheChoice(takes: TakeStore, line: LineRef, inUse: LineTake | undefined): void {
  if (inUse && !inUse.chosen) takes.chooseTake(line, inUse.id);
}
