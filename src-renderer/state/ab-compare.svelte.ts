// A/B compare of two takes of one line: play A or B, and switch to the other at the same moment
// while playing, so a difference is heard in context instead of from the top each time. Both takes
// are held in memory (take-audio.ts), so a switch starts within one audio chunk.
import type { ScriptLine } from '../../src-shared/script/types.ts';
import { playback } from '../audio/stream-player.svelte.ts';
import { lastRequest, playTakeFrom } from './audition.svelte.ts';
import { loadTakeAudio } from './take-audio.ts';
import { takes } from './takes.svelte.ts';
import { playheadSeconds } from './waveform.svelte.ts';

export type Side = 'a' | 'b';

export const compare = $state<{ lineId: string | null; a: number | null; b: number | null; side: Side; stream: number }>({
  lineId: null,
  a: null,
  b: null,
  side: 'a',
  /** Player stream of the last A/B playback, to tell whether a switch should keep the position. */
  stream: 0,
});

/** Sets the two takes to compare; the other side keeps its take when it is of the same line. */
export function compareTakes(lineId: string, a: number, b: number): void {
  Object.assign(compare, { lineId, a, b, side: 'a', stream: 0 });
}

export function clearCompare(): void {
  Object.assign(compare, { lineId: null, a: null, b: null, side: 'a', stream: 0 });
}

/**
 * Whether the line (the selected one) has an A/B comparison to switch: Alt+B acts only then. A
 * comparison one of whose takes was deleted (Takes panel, Settings clearing the cache) is over:
 * it follows takes.gone, so no delete path has to remember to close it.
 */
export function isComparing(lineId: string | null | undefined): boolean {
  const { a, b } = compare;
  return lineId != null && compare.lineId === lineId && a !== null && b !== null && !takes.gone[a] && !takes.gone[b];
}

/** The take on `side` of the line's comparison; null when it has none (or the comparison is of another line). */
function sideTake(side: Side, lineId: string): number | null {
  return isComparing(lineId) ? compare[side] : null;
}

/** Plays one side from `fromSeconds`. */
export async function playSide(line: Pick<ScriptLine, 'id' | 'index' | 'speaker' | 'text'>, side: Side, fromSeconds = 0): Promise<void> {
  const takeId = sideTake(side, line.id);
  if (takeId === null) return;
  compare.side = side;
  const stream = await playTakeFrom(line, takeId, fromSeconds, `Line ${line.index + 1}, ${side.toUpperCase()} (take ${takeId})`);
  if (stream !== null) compare.stream = stream;
}

/** Switches to the other side, at the same point when A/B is playing, else from the start. */
export async function toggleSide(line: Pick<ScriptLine, 'id' | 'index' | 'speaker' | 'text'>): Promise<void> {
  const other: Side = compare.side === 'a' ? 'b' : 'a';
  const takeId = sideTake(other, line.id);
  if (takeId === null) return;
  compare.side = other;
  const request = lastRequest();
  // Read the other take first (the first switch to it reads it from the cache) and only then take
  // the position: the side playing meanwhile goes on, and the switch must pick up where it is then.
  await loadTakeAudio(takeId).catch(() => undefined); // playTakeFrom reports a failed read
  if (compare.side !== other) return; // switched again meanwhile
  if (lastRequest() !== request) return; // Stop, or something else played, meanwhile
  const playingCompare = playback.playing && playback.stream === compare.stream && compare.stream !== 0;
  const at = playingCompare ? (playheadSeconds() ?? 0) : 0;
  await playSide(line, other, at);
}
