// Export options with defaults filled in, and validation of options and input, so bad requests
// fail with a clear message before any audio work or file is touched.
import { AppError } from '../../src-shared/errors.ts';
import { MAX_RESAMPLE_RATE, MIN_RESAMPLE_RATE } from '../audio/resample.ts';
import { checkAudioOptions } from './encoders.ts';
import { LINE_TOKENS, STEM_TOKENS, checkPattern } from './naming.ts';
import { checkTiming } from './timeline.ts';
import {
  DEFAULT_EXPORT_OPTIONS,
  EXPORT_KINDS,
  type AudioOptions,
  type ExportInput,
  type ExportOptions,
  type TimingOptions,
} from './types.ts';

export type ExportOptionsInput = Partial<Omit<ExportOptions, 'audio' | 'timing'>> & {
  audio?: Partial<AudioOptions>;
  timing?: Partial<TimingOptions>;
};

/** Loudness targets accepted, LUFS, and true-peak ceilings, dBTP. */
export const LOUDNESS_RANGE = { min: -50, max: -5 } as const;
export const TRUE_PEAK_RANGE = { min: -12, max: 0 } as const;
/** Presets named in the UI and CLI. */
export const LOUDNESS_PRESETS = { podcast: -16, streaming: -19, broadcast: -23 } as const;

/** The entries of `o` that are not undefined: an explicit undefined means "use the default". */
function defined<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, value]) => value !== undefined)) as Partial<T>;
}

export function resolveExportOptions(input: ExportOptionsInput = {}): ExportOptions {
  const options: ExportOptions = {
    ...DEFAULT_EXPORT_OPTIONS,
    ...defined(input),
    audio: { ...DEFAULT_EXPORT_OPTIONS.audio, ...defined(input.audio) },
    timing: { ...DEFAULT_EXPORT_OPTIONS.timing, ...defined(input.timing) },
  };
  // MPEG-2 rates (below 32 kHz) stop at 160 kbps; their default is the common 128.
  if (input.audio?.mp3BitrateKbps === undefined && options.audio.sampleRate < 32_000) options.audio.mp3BitrateKbps = 128;
  checkExportOptions(options);
  return options;
}

function inRange(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
}

export function checkExportOptions(o: ExportOptions): void {
  const bad = (why: string): AppError => new AppError('invalid-input', `Invalid export options: ${why}`);
  if (!Array.isArray(o.kinds) || o.kinds.length === 0) throw bad('choose at least one of mix, stems, lines, subtitles, cues');
  for (const kind of o.kinds) if (!EXPORT_KINDS.includes(kind)) throw bad(`unknown export kind "${String(kind)}"`);
  const audioKinds = o.kinds.filter((k) => k === 'mix' || k === 'stems' || k === 'lines');
  if (audioKinds.length > 0) checkAudioOptions(o.audio);
  else if (!inRange(o.audio.sampleRate, MIN_RESAMPLE_RATE, MAX_RESAMPLE_RATE)) throw bad(`sample rate ${String(o.audio.sampleRate)} Hz`);
  checkTiming(o.timing);
  if (o.loudness !== null) {
    if (!inRange(o.loudness.integratedLufs, LOUDNESS_RANGE.min, LOUDNESS_RANGE.max)) {
      throw bad(`loudness target ${String(o.loudness.integratedLufs)} LUFS is outside ${LOUDNESS_RANGE.min}..${LOUDNESS_RANGE.max}`);
    }
    if (!inRange(o.loudness.truePeakDbtp, TRUE_PEAK_RANGE.min, TRUE_PEAK_RANGE.max)) {
      throw bad(`true-peak ceiling ${String(o.loudness.truePeakDbtp)} dBTP is outside ${TRUE_PEAK_RANGE.min}..${TRUE_PEAK_RANGE.max}`);
    }
  }
  if (typeof o.existingFileAdvice !== 'string') throw bad('the advice for an existing file is not text');
  if (typeof o.baseName !== 'string' || o.baseName.trim() === '') throw bad('the file name is empty');
  if (o.targetFileName !== null) {
    if (typeof o.targetFileName !== 'string' || o.targetFileName.trim() === '' || /[/\\]/.test(o.targetFileName)) {
      throw bad(`target file name "${String(o.targetFileName)}" must be a plain file name`);
    }
    if (singleFileCount(o) !== 1) throw bad('a target file name needs an export that writes exactly one file (a mix, or one subtitle or cue format)');
  }
  if (o.kinds.includes('lines')) checkPattern(o.linePattern, LINE_TOKENS, 'line file naming pattern');
  if (o.kinds.includes('stems')) checkPattern(o.stemPattern, STEM_TOKENS, 'stem file naming pattern');
  if (o.kinds.includes('subtitles')) {
    if (o.subtitleFormats.length === 0) throw bad('choose srt, vtt or both for subtitles');
    for (const f of o.subtitleFormats) if (f !== 'srt' && f !== 'vtt') throw bad(`unknown subtitle format "${String(f)}"`);
  }
  if (o.kinds.includes('cues')) {
    if (o.cueFormats.length === 0) throw bad('choose json, csv or audacity-labels for the cue list');
    for (const f of o.cueFormats) if (!['json', 'csv', 'audacity-labels'].includes(f)) throw bad(`unknown cue list format "${String(f)}"`);
  }
}

function singleFileCount(o: ExportOptions): number {
  let n = 0;
  for (const kind of o.kinds) {
    if (kind === 'mix') n += 1;
    else if (kind === 'subtitles') n += o.subtitleFormats.length;
    else if (kind === 'cues') n += o.cueFormats.length;
    else n += 2; // stems and line files are many files
  }
  return n;
}

/** Checks the takes and speakers handed in; the message names the line at fault. */
export function checkExportInput(input: ExportInput): void {
  const bad = (why: string): AppError => new AppError('invalid-input', `Cannot export: ${why}`);
  if (!input || !Array.isArray(input.lines) || !Array.isArray(input.speakers)) throw bad('lines and speakers are required');
  if (input.lines.length === 0) throw bad('no line has a chosen take');
  const speakers = new Set<string>();
  for (const s of input.speakers) {
    if (typeof s.id !== 'string' || s.id === '') throw bad('a speaker has no id');
    if (speakers.has(s.id)) throw bad(`speaker id "${s.id}" appears twice`);
    if (s.pan !== undefined && !inRange(s.pan, -1, 1)) throw bad(`speaker "${s.name}" has pan ${String(s.pan)}, outside -1..1`);
    speakers.add(s.id);
  }
  const lineIds = new Set<string>();
  for (const line of input.lines) {
    const name = `line ${line.index + 1} (${line.lineId})`;
    if (lineIds.has(line.lineId)) throw bad(`line id ${line.lineId} appears twice`);
    lineIds.add(line.lineId);
    if (!Number.isInteger(line.index) || line.index < 0) throw bad(`${name} has index ${String(line.index)}`);
    if (!speakers.has(line.speakerId)) throw bad(`${name} is spoken by "${line.speakerId}", who is not among the speakers`);
    if (typeof line.text !== 'string') throw bad(`${name} has no text`);
    if (!(line.samples instanceof Float32Array) || line.samples.length === 0) throw bad(`${name} has no audio`);
    if (!inRange(line.sampleRate, MIN_RESAMPLE_RATE, MAX_RESAMPLE_RATE) || !Number.isInteger(line.sampleRate)) {
      throw bad(`${name} has sample rate ${String(line.sampleRate)}`);
    }
    const samples = line.samples;
    for (let i = 0; i < samples.length; i++) {
      // x - x is NaN exactly for NaN and ±Infinity.
      if (samples[i] - samples[i] !== 0) throw bad(`${name} has a non-finite sample (${samples[i]}) at ${i}`);
    }
  }
}
