// SubRip (.srt) and WebVTT (.vtt) subtitles, one cue per line, timed from the line's sample
// positions on the timeline: a timestamp is the sample position in milliseconds, rounded, so it
// is within half a millisecond of the audio (the formats' resolution is 1 ms).
import type { Timeline } from './timeline.ts';

export interface Cue {
  /** Position in the script, from 0. */
  index: number;
  lineId: string;
  speakerId: string;
  speakerName: string;
  text: string;
  /** Samples on the timeline: start inclusive, end exclusive. */
  start: number;
  end: number;
  sampleRate: number;
}

/** One cue per placed line, ordered by start (script order on ties). */
export function cuesFromTimeline(timeline: Timeline, speakerNames: ReadonlyMap<string, string>): Cue[] {
  return timeline.placements
    .map((p) => ({
      index: p.index,
      lineId: p.lineId,
      speakerId: p.speakerId,
      speakerName: speakerNames.get(p.speakerId) ?? p.speakerId,
      text: p.text,
      start: p.start,
      end: p.end,
      sampleRate: timeline.sampleRate,
    }))
    .sort((a, b) => a.start - b.start || a.index - b.index);
}

export function sampleToMs(sample: number, sampleRate: number): number {
  return Math.round((sample * 1000) / sampleRate);
}

/** HH:MM:SS{sep}mmm; hours grow past two digits if they must. */
export function formatTimestamp(ms: number, separator: ',' | '.'): string {
  const pad = (n: number, w: number): string => String(n).padStart(w, '0');
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor(ms / 60_000) % 60;
  const seconds = Math.floor(ms / 1000) % 60;
  return `${pad(hours, 2)}:${pad(minutes, 2)}:${pad(seconds, 2)}${separator}${pad(ms % 1000, 3)}`;
}

/** Cue times in ms; a cue never ends before it starts, even for a line shorter than 1 ms. */
function cueMs(cue: Cue): { start: number; end: number } {
  const start = sampleToMs(cue.start, cue.sampleRate);
  return { start, end: Math.max(start + 1, sampleToMs(cue.end, cue.sampleRate)) };
}

/** Longest subtitle row, in characters (a common broadcast guideline). */
const MAX_ROW_CHARS = 42;

/**
 * The spoken text for display: script speaker tags removed, whitespace collapsed, rows wrapped.
 * `prefix` (a speaker label) starts the first row and counts towards its width.
 */
export function subtitleRows(text: string, prefix = ''): string[] {
  const words = text.replace(/\[S\d{1,2}\]/g, ' ').split(/\s+/).filter((w) => w !== '');
  const rows: string[] = [];
  let row = prefix;
  for (const word of words) {
    if (row !== '' && row !== prefix && row.length + 1 + word.length > MAX_ROW_CHARS) {
      rows.push(row);
      row = word;
    } else row = row === '' ? word : row === prefix ? `${prefix}${word}` : `${row} ${word}`;
  }
  if (row === prefix) row = `${prefix}…`; // a line with no words (only tags) still shows
  rows.push(row);
  return rows;
}

export interface SubtitleOptions {
  /** Put the speaker's name in front of the text ("Name: ..." in SRT, a <v Name> voice in VTT). */
  speakerLabels: boolean;
}

export function toSrt(cues: readonly Cue[], opts: SubtitleOptions): string {
  const blocks = cues.map((cue, i) => {
    const { start, end } = cueMs(cue);
    const rows = subtitleRows(cue.text, opts.speakerLabels ? `${oneRow(cue.speakerName)}: ` : '');
    return `${i + 1}\n${formatTimestamp(start, ',')} --> ${formatTimestamp(end, ',')}\n${rows.join('\n')}\n`;
  });
  return blocks.join('\n');
}

function escapeVtt(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function oneRow(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export function toVtt(cues: readonly Cue[], opts: SubtitleOptions): string {
  const blocks = cues.map((cue) => {
    const { start, end } = cueMs(cue);
    const rows = subtitleRows(cue.text).map(escapeVtt);
    // A voice span names the speaker in a way players can style or hide.
    if (opts.speakerLabels) rows[0] = `<v ${escapeVtt(oneRow(cue.speakerName))}>${rows[0]}`;
    return `${formatTimestamp(start, '.')} --> ${formatTimestamp(end, '.')}\n${rows.join('\n')}\n`;
  });
  return ['WEBVTT\n', ...blocks].join('\n');
}
