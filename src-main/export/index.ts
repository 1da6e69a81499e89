// Export of a script's chosen takes: mix, per-speaker stems, per-line files, subtitles and cue
// lists, optionally loudness-normalised. Takes come in decoded (mono float per line), so this
// needs neither the take cache nor a network. The caller (app core or CLI) chose `dest` through
// its own dialog or flag; only file names inside it are made here.
//
// Order of work: validate everything and refuse existing files first (cheap, before any audio
// work), then resample, lay out the timeline, mix, normalise, and encode each file into a temp
// file; only when all are written do they get their names (files.ts). Cancel or failure at any
// point leaves the destination as it was.
import { AppError } from '../../src-shared/errors.ts';
import type { ExportStage } from '../../src-shared/api/export.ts';
import { throwIfCancelled, yieldTurn, type WorkHooks } from '../audio/cooperative.ts';
import { amplitudeToDb, dbToAmplitude, type Gain } from '../audio/loudness.ts';
import { applyGain, planNormalization, TRUE_PEAK_MARGIN_DB, type LoudnessPlan, type LoudnessTarget } from '../audio/normalize.ts';
import { resample } from '../audio/resample.ts';
import { truePeak } from '../audio/true-peak.ts';
import { toAudacityLabels, toCueCsv, toCueJson, cueList } from './cues.ts';
import { encodeAudio, fileExtension, prepareEncoder } from './encoders.ts';
import { StagedFiles } from './files.ts';
import { checkUnique, expandPattern, indexWidth, LINE_NAME_FIX, sanitizeFileName, STEM_NAME_FIX } from './naming.ts';
import { checkExportInput, resolveExportOptions, type ExportOptionsInput } from './options.ts';
import { renderMix, renderStem } from './render.ts';
import { cuesFromTimeline, subtitleCues, toSrt, toVtt } from './subtitles.ts';
import { planTimeline } from './timeline.ts';
import type { CueFormat, ExportedFile, ExportHooks, ExportInput, ExportKind, ExportLine, ExportOptions, ExportResult, SubtitleFormat } from './types.ts';

export * from './types.ts';
export { resolveExportOptions, LOUDNESS_PRESETS, type ExportOptionsInput } from './options.ts';
export { planTimeline, type Timeline, type Placement, type TimelineLine } from './timeline.ts';
export { renderMix, renderStem, renderStems } from './render.ts';
export { toSrt, toVtt, cuesFromTimeline, type Cue } from './subtitles.ts';
export { cueList, toCueJson, toCueCsv, toAudacityLabels } from './cues.ts';

const CUE_SUFFIX: Record<CueFormat, string> = { json: '.cues.json', csv: '.cues.csv', 'audacity-labels': '.labels.txt' };

interface OutputNames {
  mix: string | null;
  /** speaker id -> file name, in order of first appearance. */
  stems: Map<string, string>;
  /** line id -> file name. */
  lines: Map<string, string>;
  subtitles: { format: SubtitleFormat; name: string }[];
  cues: { format: CueFormat; name: string }[];
}

function planNames(input: ExportInput, o: ExportOptions): OutputNames {
  const has = (k: ExportKind): boolean => o.kinds.includes(k);
  const ext = fileExtension(o.audio.format);
  const base = sanitizeFileName(o.baseName);
  const names = new Map(input.speakers.map((s) => [s.id, s.name]));
  const speakerOrder = [...new Set(input.lines.map((l) => l.speakerId))];
  const width = indexWidth(input.lines.reduce((most, l) => Math.max(most, l.index + 1), input.scriptLines ?? 0));
  const lineById = new Map(input.lines.map((l) => [l.lineId, l]));
  const out: OutputNames = {
    mix: has('mix') ? `${base}${ext}` : null,
    stems: new Map(),
    lines: new Map(),
    subtitles: has('subtitles') ? o.subtitleFormats.map((format) => ({ format, name: `${base}.${format}` })) : [],
    cues: has('cues') ? o.cueFormats.map((format) => ({ format, name: `${base}${CUE_SUFFIX[format]}` })) : [],
  };
  if (has('stems')) {
    speakerOrder.forEach((id, i) => {
      const ctx = { project: input.projectName, index: i, indexWidth: 2, speakerId: id, speakerName: names.get(id) ?? id };
      out.stems.set(id, expandPattern(o.stemPattern, ctx, ext));
    });
  }
  if (has('lines')) {
    for (const l of input.lines) {
      const ctx = { project: input.projectName, index: l.index, indexWidth: width, speakerId: l.speakerId, speakerName: names.get(l.speakerId) ?? l.speakerId, text: l.text, lineId: l.lineId };
      out.lines.set(l.lineId, expandPattern(o.linePattern, ctx, ext));
    }
  }
  const all = [
    ...(out.mix ? [{ name: out.mix, owner: 'the mix' }] : []),
    ...[...out.stems].map(([id, name]) => ({ name, owner: `the stem of ${names.get(id) ?? id}`, fix: STEM_NAME_FIX })),
    ...[...out.lines].map(([id, name]) => ({ name, owner: `line ${lineById.get(id)!.index + 1}`, fix: LINE_NAME_FIX })),
    ...out.subtitles.map((s) => ({ name: s.name, owner: `the ${s.format} subtitles` })),
    ...out.cues.map((c) => ({ name: c.name, owner: `the ${c.format} cue list` })),
  ];
  if (o.targetFileName !== null) {
    // The one file this export writes gets exactly the name the user picked.
    const exact = o.targetFileName;
    if (out.mix) out.mix = exact;
    for (const s of out.subtitles) s.name = exact;
    for (const c of out.cues) c.name = exact;
    all[0].name = exact;
  }
  checkUnique(all, 'The file naming');
  return out;
}

function allNames(n: OutputNames): string[] {
  return [...(n.mix ? [n.mix] : []), ...n.stems.values(), ...n.lines.values(), ...n.subtitles.map((s) => s.name), ...n.cues.map((c) => c.name)];
}

/** Progress over the whole export; stages get fixed shares and never move backwards. */
class ProgressReporter {
  private last = 0;
  private readonly onProgress: ExportHooks['onProgress'];

  constructor(onProgress: ExportHooks['onProgress']) {
    this.onProgress = onProgress;
  }

  report(stage: ExportStage, fraction: number, detail: string): void {
    this.last = Math.max(this.last, Math.min(1, fraction));
    this.onProgress?.({ stage, fraction: this.last, detail });
  }

  /** Hooks for a sub-task that spans [from, to] of the export. */
  span(stage: ExportStage, from: number, to: number, detail: string, signal?: AbortSignal): WorkHooks {
    return { signal, onProgress: (f) => this.report(stage, from + (to - from) * f, detail) };
  }
}

/** FNV-1a: a stable per-file dither seed, so re-exporting gives identical bytes. */
function seedOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function peakDb(channels: readonly Float32Array[]): number {
  let peak = 0;
  for (const c of channels) for (let i = 0; i < c.length; i++) peak = Math.max(peak, Math.abs(c[i]));
  return amplitudeToDb(peak);
}

export async function exportProject(input: ExportInput, dest: string, optionsInput: ExportOptionsInput = {}, hooks: ExportHooks = {}): Promise<ExportResult> {
  const options = resolveExportOptions(optionsInput);
  checkExportInput(input);
  const names = planNames(input, options);
  const staged = await StagedFiles.open(dest, options.overwrite, options.existingFileAdvice, options.createFolder);
  const { signal } = hooks;
  const progress = new ProgressReporter(hooks.onProgress);
  const warnings: string[] = [];
  const kinds = new Set(options.kinds);
  const { audio } = options;
  try {
    await staged.refuseExisting(allNames(names));
    if (kinds.has('mix') || kinds.has('stems') || kinds.has('lines')) {
      await prepareEncoder(audio.format);
      noteCutLines(input.lines, warnings);
    }

    // Takes to the output rate; the timeline is then exact in output samples.
    const lines = [];
    for (let i = 0; i < input.lines.length; i++) {
      const line = input.lines[i];
      progress.report('collecting', (0.2 * i) / input.lines.length, `Preparing line ${line.index + 1}`);
      const samples = line.sampleRate === audio.sampleRate ? line.samples : resample(line.samples, line.sampleRate, audio.sampleRate);
      lines.push({ ...line, samples, sampleRate: audio.sampleRate });
      await yieldTurn(signal);
    }
    const timeline = planTimeline(lines, options.timing);
    const speakerNames = new Map(input.speakers.map((s) => [s.id, s.name]));
    const render = { channels: audio.channels, pans: new Map(input.speakers.map((s) => [s.id, s.pan ?? 0])) };

    /** The mix's plan once measured (undefined: not yet): a short line file borrows its gain, mix written or not. */
    let mixPlan: LoudnessPlan | null | undefined;
    let mixGain: Gain = 1;
    const mixed = kinds.has('mix') || kinds.has('stems');
    if (mixed) {
      progress.report('mixing', 0.2, 'Mixing');
      const mix = renderMix(timeline, render);
      await yieldTurn(signal);
      if (options.loudness) {
        mixPlan = await planNormalization(mix, audio.sampleRate, options.loudness, progress.span('normalizing', 0.25, 0.5, 'Measuring loudness', signal));
        if (mixPlan) {
          mixGain = mixPlan.gain;
          noteShortfall(mixPlan, options.loudness, 'The mix', warnings);
        } else warnings.push('The mix is too short or too quiet to measure its loudness; its level was left as rendered');
      }
      if (names.mix) {
        for (const c of mix) applyGain(c, mixGain, c); // in place: the mix is not needed unscaled again
        noteClipping(mix, 'The mix', warnings, audio.format, audio.bitDepth);
        await writeAudio(staged, names.mix, mix, options, progress.span('encoding', 0.5, 0.6, 'Encoding the mix', signal));
      }
    }

    const stems = [...names.stems];
    for (let i = 0; i < stems.length; i++) {
      const [speakerId, name] = stems[i];
      const from = 0.6 + (0.15 * i) / stems.length;
      const stem = renderStem(timeline, speakerId, render).map((c) => applyGain(c, mixGain, c));
      noteClipping(stem, `The stem of ${speakerNames.get(speakerId) ?? speakerId}`, warnings, audio.format, audio.bitDepth);
      await writeAudio(staged, name, stem, options, progress.span('encoding', from, from + 0.15 / stems.length, `Encoding the stem of ${speakerNames.get(speakerId)}`, signal));
    }

    const lineEntries = [...names.lines];
    const preparedById = new Map(lines.map((l) => [l.lineId, l]));
    for (let i = 0; i < lineEntries.length; i++) {
      const [lineId, name] = lineEntries[i];
      const line = preparedById.get(lineId)!;
      const from = 0.75 + (0.2 * i) / lineEntries.length;
      const span = progress.span('encoding', from, from + 0.2 / lineEntries.length, `Encoding line ${line.index + 1}`, signal);
      let gain: Gain = 1;
      if (options.loudness) {
        const own = await planNormalization([line.samples], audio.sampleRate, options.loudness, { signal });
        // Too short to measure: the mix's gain, measured now if no mix or stems are written.
        if (!own && mixPlan === undefined) mixPlan = await planNormalization(renderMix(timeline, render), audio.sampleRate, options.loudness, { signal });
        if (own) {
          gain = own.gain;
          noteShortfall(own, options.loudness, `Line ${line.index + 1}`, warnings);
        } else if (mixPlan) {
          gain = borrowedGain(line.samples, audio.sampleRate, mixPlan.gainDb, options.loudness);
          warnings.push(`Line ${line.index + 1} is too short or quiet to measure its loudness; it got the mix's gain${gain < dbToAmplitude(mixPlan.gainDb) ? ', lowered to stay under the true-peak ceiling' : ''}`);
        } else warnings.push(`Line ${line.index + 1} is too short or quiet to measure its loudness; its level was left as rendered`);
      }
      const samples = applyGain(line.samples, gain);
      noteClipping([samples], `Line ${line.index + 1}`, warnings, audio.format, audio.bitDepth);
      await writeAudio(staged, name, [samples], { ...options, audio: { ...audio, channels: 1 } }, span);
    }

    const cues = cuesFromTimeline(timeline, speakerNames);
    progress.report('writing', 0.95, 'Writing subtitles and cue lists');
    if (names.subtitles.length > 0) {
      const shown = subtitleCues(cues, options); // split once for both formats
      for (const { format, name } of names.subtitles) {
        const text = format === 'srt' ? toSrt(shown) : toVtt(shown);
        await staged.write(name, [new TextEncoder().encode(text)], signal);
      }
    }
    const list = cueList(cues, timeline.length, names.lines);
    for (const { format, name } of names.cues) {
      const text = format === 'json' ? toCueJson(list) : format === 'csv' ? toCueCsv(list) : toAudacityLabels(list);
      await staged.write(name, [new TextEncoder().encode(text)], signal);
    }

    throwIfCancelled(signal);
    progress.report('writing', 0.98, 'Saving files');
    const written = await staged.commit();
    progress.report('writing', 1, 'Done');
    const kindOf = kindsByName(names);
    return {
      files: written.map((f) => ({ ...f, kind: kindOf.get(f.name)! })),
      durationSeconds: timeline.length / timeline.sampleRate,
      sampleRate: timeline.sampleRate,
      // Only for a mix made for the files: a mix measured just for a short line file is not reported.
      loudness: mixed && mixPlan ? { before: mixPlan.before, after: mixPlan.after, gainDb: mixPlan.gainDb, limited: mixPlan.limited } : null,
      warnings,
    };
  } catch (err) {
    await staged.discard();
    throw AppError.fromUnknown(err);
  }
}

/** Which export kind wrote each file name. */
function kindsByName(names: OutputNames): Map<string, ExportedFile['kind']> {
  const kinds = new Map<string, ExportedFile['kind']>();
  if (names.mix) kinds.set(names.mix, 'mix');
  for (const name of names.stems.values()) kinds.set(name, 'stems');
  for (const name of names.lines.values()) kinds.set(name, 'lines');
  for (const s of names.subtitles) kinds.set(s.name, 'subtitles');
  for (const c of names.cues) kinds.set(c.name, 'cues');
  return kinds;
}

/**
 * The mix's static gain for a line too short to measure on its own, lowered where needed so the
 * line's true peak stays under the ceiling: the mix's limiter does not reach a file of its own.
 */
function borrowedGain(samples: Float32Array, sampleRate: number, mixGainDb: number, target: LoudnessTarget): number {
  const ceiling = dbToAmplitude(target.truePeakDbtp - TRUE_PEAK_MARGIN_DB);
  const peak = truePeak([samples], sampleRate);
  const gain = dbToAmplitude(mixGainDb);
  return peak * gain > ceiling ? ceiling / peak : gain;
}

/** One warning for the lines whose take stops mid-way (cut at "Longest pass"): the audio exported has them so. */
function noteCutLines(lines: readonly ExportLine[], warnings: string[]): void {
  const cut = lines.filter((l) => l.cut).map((l) => l.index + 1);
  if (cut.length === 0) return;
  const listed = cut.length > 10 ? `${cut.slice(0, 10).join(', ')} and ${cut.length - 10} more` : cut.join(', ');
  warnings.push(
    `Line${cut.length === 1 ? '' : 's'} ${listed} use${cut.length === 1 ? 's a take' : ' takes'} whose audio stops mid-way (cut at "Longest pass"): raise "Longest pass" in Settings, make a new take and choose it`,
  );
}

/** Warns when limiting could not bring `what` to the loudness target under the ceiling. */
function noteShortfall(plan: LoudnessPlan, target: LoudnessTarget, what: string, warnings: string[]): void {
  if (Math.abs(plan.after.integratedLufs - target.integratedLufs) <= 0.5) return;
  warnings.push(
    `${what} reaches ${plan.after.integratedLufs.toFixed(1)} LUFS, not ${target.integratedLufs} LUFS: ` +
      `getting louder under the ${target.truePeakDbtp} dBTP ceiling would need more limiting than allowed`,
  );
}

function noteClipping(channels: readonly Float32Array[], what: string, warnings: string[], format: string, bitDepth: number): void {
  const peak = peakDb(channels);
  if (peak > 0 && !(format === 'wav' && bitDepth === 32)) {
    warnings.push(`${what} peaks at +${peak.toFixed(1)} dBFS and was clipped; set a loudness target, or export 32-bit float WAV`);
  }
}

async function writeAudio(staged: StagedFiles, name: string, channels: Float32Array[], options: ExportOptions, hooks: WorkHooks): Promise<void> {
  hooks.onProgress?.(0);
  await yieldTurn(hooks.signal);
  const chunks = encodeAudio(channels, options.audio, staged.pathOf(name), seedOf(name));
  await staged.write(name, chunks, hooks.signal);
  hooks.onProgress?.(1);
}
