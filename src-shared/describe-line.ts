// How a message names a script line: its number and its first words, the same in the app's
// exports and the render CLI.
import { clipText } from './errors.ts';

/** 'line 3 ("First words…")', with `speaker` 'line 3 (S1: "First words…")'; `index` counts from 0. */
export function describeLine(index: number, text: string, speaker?: string): string {
  const words = text.length > 40 ? `${clipText(text, 39)}…` : text;
  return `line ${index + 1} (${speaker === undefined ? '' : `${speaker}: `}"${words}")`;
}
