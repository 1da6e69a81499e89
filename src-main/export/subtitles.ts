// SubRip (.srt) and WebVTT (.vtt) subtitles, timed from the lines' sample positions on the
// timeline: a timestamp is the sample position in milliseconds, rounded, so it is within half a
// millisecond of the audio (the formats' resolution is 1 ms). A line too long to read in one cue
// is split into several inside its own time (subtitle-split.ts), the label's width counted; both
// formats write that one split (subtitleCues), so their times agree, and wrap each cue's tokens as
// the split cut them, so their rows are those it counted. The speaker label goes on
// every cue, not just a line's first: with overlapping speakers a cue without a name is
// ambiguous, and VTT's <v Name> span is meant to mark each cue.
import { splitLine } from './subtitle-split.ts';
import { subtitleRows, type Token } from './subtitle-text.ts';
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
  /** The line's own audio (end - start samples): subtitle breaks are put in its pauses. */
  samples?: Float32Array;
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
      samples: p.samples,
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
function cueMs(cue: Pick<Cue, 'start' | 'end' | 'sampleRate'>): { start: number; end: number } {
  const start = sampleToMs(cue.start, cue.sampleRate);
  return { start, end: Math.max(start + 1, sampleToMs(cue.end, cue.sampleRate)) };
}

export interface SubtitleOptions {
  /** Put the speaker's name in front of the text ("Name: ..." in SRT, a <v Name> voice in VTT). */
  speakerLabels: boolean;
}

/** A cue as shown: one piece of a split line, its text as the tokens its rows were counted on. */
export interface ShownCue extends Omit<Cue, 'text'> {
  tokens: readonly Token[];
}

/** Cues split for display, with the options they were split for (the label's width counts). */
export interface SubtitleCues extends SubtitleOptions {
  cues: ShownCue[];
}

/**
 * The cues to show: each line split to be readable, all ordered by start (line order on ties).
 * Made once and given to both writers, which then show the same cues.
 */
export function subtitleCues(cues: readonly Cue[], opts: SubtitleOptions): SubtitleCues {
  const shown = cues
    .flatMap(({ text, ...cue }) =>
      splitLine(text, { prefix: labelPrefix(cue, opts), length: cue.end - cue.start, sampleRate: cue.sampleRate, samples: cue.samples })
        .map((piece) => ({ ...cue, tokens: piece.tokens, start: cue.start + piece.start, end: cue.start + piece.end })),
    )
    .sort((a, b) => a.start - b.start || a.index - b.index);
  return { speakerLabels: opts.speakerLabels, cues: shown };
}

/** SRT's "Name: " label, which also counts towards the width in both formats. */
function labelPrefix(cue: Pick<Cue, 'speakerName'>, opts: SubtitleOptions): string {
  return opts.speakerLabels ? `${oneRow(cue.speakerName)}: ` : '';
}

export function toSrt(subs: SubtitleCues): string {
  const blocks = subs.cues.map((cue, i) => {
    const { start, end } = cueMs(cue);
    const rows = subtitleRows(cue.tokens, labelPrefix(cue, subs));
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

export function toVtt(subs: SubtitleCues): string {
  const blocks = subs.cues.map((cue) => {
    const { start, end } = cueMs(cue);
    // Players need not show the voice's name, so the rows are wrapped without it (never more rows
    // than the split counted with it).
    const rows = subtitleRows(cue.tokens).map(escapeVtt);
    // A voice span names the speaker in a way players can style or hide.
    if (subs.speakerLabels) rows[0] = `<v ${escapeVtt(oneRow(cue.speakerName))}>${rows[0]}`;
    return `${formatTimestamp(start, '.')} --> ${formatTimestamp(end, '.')}\n${rows.join('\n')}\n`;
  });
  return ['WEBVTT\n', ...blocks].join('\n');
}
