// "Play from here" and "Play all": the renderable lines one after another, each from its chosen
// take or rendered (streamed) when it has none, with a short pause between turns. The line being
// played is selected, so the line list, takes and waveform follow along. Stop ends the run; so
// does playing anything else (its stream replaces the run's).
import { isRenderable } from '../../src-shared/script/parse-script.ts';
import type { ScriptLine } from '../../src-shared/script/types.ts';
import { isCurrentStream, playback, whenStreamEnds } from '../audio/stream-player.svelte.ts';
import { audition, playLine, stop } from './audition.svelte.ts';
import { script, selectLine } from './script.svelte.ts';

/** Pause between two lines, like a gap between turns in a conversation. */
export const TURN_PAUSE_MS = 300;

export const playlist = $state<{ active: boolean; position: number; total: number; lineId: string | null; following: boolean }>({
  active: false,
  position: 0,
  total: 0,
  lineId: null,
  following: true,
});

let run = 0;
/** script.selections just after the run selected its latest line: that selection is the run's, not the user's. */
let runSelection = -1;

// Following: the line list scrolls to each line as the run selects it, until the user scrolls the
// list by hand (stopFollowing), to read ahead or look at another line: the view then stays where
// the user put it. Following comes back with the list's "Follow playback" button (followPlayback),
// when the user selects the line being played, and at the next run. A line the user selects is
// always scrolled to.

/** The user scrolled the line list by hand: a run going on no longer scrolls it. */
export function stopFollowing(): void {
  if (playlist.active) playlist.following = false;
}

/** Follows the run again, from the line being played. */
export function followPlayback(): void {
  playlist.following = true;
  if (playlist.active && playlist.lineId) selectLine(playlist.lineId);
}

/** Whether the line list is to scroll to the selection counted `selections` (script.selections). */
export function listFollows(selections: number): boolean {
  if (selections === runSelection) return playlist.following;
  if (playlist.active && script.selectedLineId === playlist.lineId) playlist.following = true;
  return true;
}

/**
 * Something to stop (Stop button, Esc): playing, a render being played, a run, or a play request
 * still getting ready, which Stop must be able to call off.
 */
export function isBusy(): boolean {
  return playback.playing || audition.renderId !== null || audition.preparing || playlist.active;
}

/** Plays `lines` from the one with id `fromLineId` (or the first) to the end of the script. */
export async function playSequence(lines: readonly ScriptLine[], fromLineId: string | null): Promise<void> {
  const start = fromLineId === null ? 0 : Math.max(0, lines.findIndex((l) => l.id === fromLineId));
  const todo = lines.slice(start).filter(isRenderable);
  if (todo.length === 0) return;
  const token = ++run;
  Object.assign(playlist, { active: true, position: 0, total: todo.length, lineId: null, following: true });
  try {
    for (const [i, line] of todo.entries()) {
      if (token !== run) return;
      Object.assign(playlist, { position: i + 1, lineId: line.id });
      selectLine(line.id);
      runSelection = script.selections;
      const stream = await playLine(line);
      if (stream === null || token !== run) return;
      if ((await whenStreamEnds(stream)) === 'stopped') return;
      if (i < todo.length - 1) await new Promise((resolve) => setTimeout(resolve, TURN_PAUSE_MS));
      // Something else was played (or is getting ready to) once this line was over: it is not to be
      // cut off. A request that played nothing (refused, or its take unreadable) leaves the run going.
      if (audition.preparing || !isCurrentStream(stream)) return;
    }
  } finally {
    if (token === run) Object.assign(playlist, { active: false, lineId: null });
  }
}

/** Ends a run of "play from here" (if any) and stops playback and the render being played. */
export async function stopAll(): Promise<void> {
  run++;
  Object.assign(playlist, { active: false, lineId: null });
  await stop();
}
