// Cue lists: where each line sits on the exported timeline, for editors and other tools. JSON
// carries exact sample positions; CSV (RFC 4180 quoting) the same as a table; Audacity's label
// track format (tab-separated seconds) imports straight into Audacity.
import type { Cue } from './subtitles.ts';

export interface CueListEntry {
  index: number;
  lineId: string;
  speakerId: string;
  speaker: string;
  text: string;
  startSample: number;
  endSample: number;
  startSeconds: number;
  endSeconds: number;
  /** Name of the line's own file, when per-line files were exported with it. */
  file: string | null;
}

export interface CueList {
  sampleRate: number;
  lengthSamples: number;
  cues: CueListEntry[];
}

export function cueList(cues: readonly Cue[], lengthSamples: number, lineFiles: ReadonlyMap<string, string> = new Map()): CueList {
  const sampleRate = cues[0]?.sampleRate ?? 0;
  return {
    sampleRate,
    lengthSamples,
    cues: cues.map((c) => ({
      index: c.index,
      lineId: c.lineId,
      speakerId: c.speakerId,
      speaker: c.speakerName,
      text: c.text,
      startSample: c.start,
      endSample: c.end,
      startSeconds: c.start / c.sampleRate,
      endSeconds: c.end / c.sampleRate,
      file: lineFiles.get(c.lineId) ?? null,
    })),
  };
}

export function toCueJson(list: CueList): string {
  return `${JSON.stringify(list, null, 2)}\n`;
}

/** RFC 4180: quote a field holding a comma, quote, CR or LF, doubling the quotes inside. */
export function csvField(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const CSV_COLUMNS = ['index', 'line_id', 'speaker_id', 'speaker', 'start_seconds', 'end_seconds', 'start_sample', 'end_sample', 'file', 'text'] as const;

/** Seconds with microsecond resolution: enough to name any sample at up to 1 MHz. */
function seconds(value: number): string {
  return value.toFixed(6);
}

export function toCueCsv(list: CueList): string {
  const rows = list.cues.map((c) =>
    [c.index + 1, c.lineId, c.speakerId, c.speaker, seconds(c.startSeconds), seconds(c.endSeconds), c.startSample, c.endSample, c.file, c.text].map(csvField).join(','),
  );
  // CRLF line ends, as RFC 4180 specifies and spreadsheet programs expect.
  return [CSV_COLUMNS.join(','), ...rows].join('\r\n') + '\r\n';
}

/** Audacity labels: "start<TAB>end<TAB>label" per line; tabs and newlines in labels become spaces. */
export function toAudacityLabels(list: CueList): string {
  return list.cues
    .map((c) => `${seconds(c.startSeconds)}\t${seconds(c.endSeconds)}\t${`${c.speaker}: ${c.text}`.replace(/[\t\r\n]+/g, ' ')}\n`)
    .join('');
}
