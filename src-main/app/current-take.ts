// Which cached take is a line's audio now: its chosen take, if that was rendered from the line's
// words for the line's speaker. A line edited in place keeps its id (and its takes), but a take of
// an earlier wording or another speaker is no longer its audio.
import type { TakeStore } from '../store/take-store.ts';
import type { LineRef, LineTake } from '../store/types.ts';

export function currentChosenTake(takes: TakeStore, line: LineRef, speaker: string): LineTake | undefined {
  return takes.listTakes(line).find((t) => t.chosen && t.lineText === line.text && t.input.speaker === speaker);
}
