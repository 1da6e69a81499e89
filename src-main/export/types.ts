// Inputs, options and results of an export. Audio arrives already decoded (the chosen take of each
// line, mono float), so the exporter needs nothing from the take cache and works offline.
import type { ExportStage } from '../../src-shared/api/export.ts';
import type { LoudnessMeasurement, LoudnessTarget } from '../audio/index.ts';

export interface ExportLine {
  /** Stable id of the script line. */
  lineId: string;
  /** Position in the script, from 0: drives {index} in file names and the subtitle order. */
  index: number;
  /** Speaker id as used in the script (e.g. "S1"); must match one of ExportInput.speakers. */
  speakerId: string;
  /** The line's text as shown in subtitles and cue lists. */
  text: string;
  /** The chosen take: mono samples in [-1, 1]. */
  samples: Float32Array;
  sampleRate: number;
  /** Silence after this line, overriding the global gap. */
  gapAfterMs?: number;
  /** Start this long before the previous lines end (an interruption); replaces the gap before it. */
  overlapMs?: number;
  /** The take ran to "Longest pass" before the model ended the line: its audio stops mid-way. */
  cut?: boolean;
}

export interface ExportSpeaker {
  id: string;
  /** Display name, used in stems' file names, subtitles and cue lists. */
  name: string;
  /** Position in a stereo mix, -1 (left) .. 1 (right); 0 when absent. Ignored for mono. */
  pan?: number;
}

export interface ExportInput {
  projectName: string;
  /** In script order. */
  lines: ExportLine[];
  speakers: ExportSpeaker[];
  /**
   * Lines in the whole script, those without a take included: line numbers in names are padded to
   * its width (as the naming preview shows them), not to the last line exported. Default: the lines.
   */
  scriptLines?: number;
}

export type ExportKind = 'mix' | 'stems' | 'lines' | 'subtitles' | 'cues';
export const EXPORT_KINDS: readonly ExportKind[] = ['mix', 'stems', 'lines', 'subtitles', 'cues'];

export type AudioFormat = 'wav' | 'flac' | 'mp3';
export type SubtitleFormat = 'srt' | 'vtt';
export type CueFormat = 'json' | 'csv' | 'audacity-labels';

export interface AudioOptions {
  format: AudioFormat;
  /** wav: 16 (dithered), 24 or 32 (float); flac: 16 (dithered) or 24; mp3: ignored (16-bit dithered input). */
  bitDepth: 16 | 24 | 32;
  /** Output rate; takes are resampled to it (band-limited) when it differs from theirs. */
  sampleRate: number;
  /** Mix and stems: 1 (mono) or 2 (stereo, speakers panned). Per-line files are always mono. */
  channels: 1 | 2;
  mp3BitrateKbps: number;
}

export interface TimingOptions {
  /** Silence between consecutive lines. */
  gapMs: number;
  /** Raised-cosine fade at both ends of every line; overlapping lines cross-fade through it. */
  crossfadeMs: number;
  /** Silence before the first line. */
  leadInMs: number;
  /** Silence after the last line. */
  tailMs: number;
}

export interface ExportOptions {
  kinds: ExportKind[];
  audio: AudioOptions;
  /** Normalise to this loudness (mix and stems share one gain; each line file gets its own), or null. */
  loudness: LoudnessTarget | null;
  timing: TimingOptions;
  /** File name (without extension) of the mix, subtitles and cue lists. */
  baseName: string;
  /**
   * Exact name for an export that writes a single file (a mix, or one subtitle or cue format),
   * e.g. the name picked in a save dialog; null to derive it from baseName.
   */
  targetFileName: string | null;
  /** Per-line file names; tokens {project} {index} {speaker} {name} {text} {words} {line}. */
  linePattern: string;
  /** Stem file names; tokens {project} {index} {speaker} {name}. */
  stemPattern: string;
  subtitleFormats: SubtitleFormat[];
  cueFormats: CueFormat[];
  /** Prefix subtitle text with the speaker's name. */
  speakerLabels: boolean;
  /** Replace existing files; when false an existing file stops the export before anything is written. */
  overwrite: boolean;
  /** What the user can do about an existing file, in the caller's terms (a CLI flag, a dialog). */
  existingFileAdvice: string;
  /** Make the destination folder and any missing one above it; a failed export removes them while empty. */
  createFolder: boolean;
}

export const DEFAULT_EXPORT_OPTIONS: ExportOptions = {
  kinds: ['mix', 'stems', 'lines', 'subtitles', 'cues'],
  audio: { format: 'wav', bitDepth: 24, sampleRate: 44_100, channels: 1, mp3BitrateKbps: 192 },
  loudness: null,
  timing: { gapMs: 400, crossfadeMs: 0, leadInMs: 0, tailMs: 0 },
  baseName: 'mix',
  targetFileName: null,
  linePattern: '{index}-{speaker}-{words}',
  stemPattern: '{project}-{name}',
  subtitleFormats: ['srt', 'vtt'],
  cueFormats: ['json', 'csv'],
  speakerLabels: true,
  overwrite: false,
  existingFileAdvice: 'choose another folder or name, or allow overwriting',
  createFolder: false,
};

export interface ExportProgress {
  stage: ExportStage;
  /** Whole export, 0..1, non-decreasing. */
  fraction: number;
  /** What is being worked on, for the status line. */
  detail: string;
}

export interface ExportHooks {
  signal?: AbortSignal;
  onProgress?: (progress: ExportProgress) => void;
}

export interface ExportedFile {
  kind: ExportKind;
  /** File name inside the destination folder. */
  name: string;
  path: string;
  bytes: number;
}

export interface ExportResult {
  files: ExportedFile[];
  /** Length of the mix timeline. */
  durationSeconds: number;
  sampleRate: number;
  /** Loudness of the mix before and after normalisation (null without a target or a mix). */
  loudness: { before: LoudnessMeasurement; after: { integratedLufs: number; truePeakDbtp: number }; gainDb: number; limited: boolean } | null;
  /** Things the user should know (target not reached, clipping, ...). */
  warnings: string[];
}
