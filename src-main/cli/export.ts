// npm run export -- PROJECT --out DIR [options]
// Exports a saved project from the take cache alone (no model, no network): mix, per-speaker
// stems, per-line files, subtitles and cue lists, optionally loudness-normalised. PROJECT is a
// project id or its exact name. Progress goes to stderr, the list of written files to stdout.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AppError } from '../../src-shared/errors.ts';
import { AUDIO_SAMPLE_RATES } from '../export/encoders.ts';
import { exportProject, EXPORT_KINDS, LOUDNESS_PRESETS, type AudioOptions, type ExportKind, type ExportOptionsInput } from '../export/index.ts';
import { loadExportInput } from '../export/project-input.ts';
import { openProjectStore, openTakeStore, type ProjectStore } from '../store/index.ts';
import { PROJECT_STORE_FILE } from '../store/project-schema.ts';
import { cliDataDir, exitStopped, exitWithError, isUsageError, joinNegativeValues, type SignalStop, stopOnSignals, UsageError, userPath } from './cli-support.ts';

const USAGE = `usage: npm run export -- PROJECT --out DIR [options]
  PROJECT                 project id or exact project name
  --out DIR               destination folder (created if missing)
  --kind K                mix|stems|lines|subtitles|cues|all, or a comma list (default all)
  --format F              wav16|wav24|wav32f|flac|flac16|mp3 (default wav24; flac is 24-bit)
  --rate HZ               ${AUDIO_SAMPLE_RATES.join('|')} (default 44100)
  --channels N            1 or 2 for the mix and stems (default 1)
  --loudness L            -16 (podcast) | -19 | -23 (broadcast) | off | any LUFS value (default off)
  --true-peak DB          true-peak ceiling in dBTP (default -1)
  --gap-ms MS             silence between lines (default 400)
  --crossfade-ms MS       fade at both ends of every line (default 0)
  --naming PATTERN        per-line file names (default "{index}-{speaker}-{words}")
  --stem-naming PATTERN   stem file names (default "{project}-{name}"); tokens {project} {index}
                          {speaker} (id) {name}; add {index} or {speaker} when two speakers'
                          names differ only in case
  --mp3-kbps N            MP3 bit rate (default 192; 128 below 32 kHz)
  --missing fail|skip     lines without a cached chosen take (default fail)
  --overwrite             replace existing files (without it, an existing file stops the export)
  --data-dir DIR          app data folder (default: the app's)

Per-line gaps and overlaps and the speakers' stereo pans come from the project, as set in the
app's export panel; --gap-ms applies to lines without their own gap.`;

/** Where StudioBackend keeps the take cache and the project store inside the data folder. */
const TAKE_CACHE_DIR = 'cache';
const PROJECT_STORE_DIR = 'projects';

/** Listening while the export runs (a stop before then ends the process at once: nothing was written yet). */
let stop: SignalStop | null = null;

const FORMATS: Record<string, Pick<AudioOptions, 'format' | 'bitDepth'>> = {
  wav16: { format: 'wav', bitDepth: 16 },
  wav24: { format: 'wav', bitDepth: 24 },
  wav32f: { format: 'wav', bitDepth: 32 },
  flac: { format: 'flac', bitDepth: 24 },
  flac16: { format: 'flac', bitDepth: 16 },
  mp3: { format: 'mp3', bitDepth: 16 },
};

function numberFlag(name: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) throw new UsageError(`--${name} must be a number in ${min}..${max}, got "${raw}"`);
  return value;
}

function parseKinds(raw: string): ExportKind[] {
  if (raw === 'all') return [...EXPORT_KINDS];
  const kinds = raw.split(',').map((k) => k.trim());
  for (const k of kinds) if (!(EXPORT_KINDS as readonly string[]).includes(k)) throw new UsageError(`--kind must be ${EXPORT_KINDS.join('|')}|all, got "${k}"`);
  return kinds as ExportKind[];
}

function parseOptions(values: Record<string, string | boolean | undefined>, projectName: string): ExportOptionsInput {
  const format = FORMATS[values.format as string];
  if (!format) throw new UsageError(`--format must be one of ${Object.keys(FORMATS).join('|')}, got "${values.format}"`);
  const rate = Number(values.rate);
  if (!(AUDIO_SAMPLE_RATES as readonly number[]).includes(rate)) throw new UsageError(`--rate must be one of ${AUDIO_SAMPLE_RATES.join('|')}, got "${values.rate}"`);
  const channels = values.channels === '2' ? 2 : values.channels === '1' ? 1 : null;
  if (channels === null) throw new UsageError(`--channels must be 1 or 2, got "${values.channels}"`);
  const loudnessRaw = values.loudness as string;
  const truePeak = numberFlag('true-peak', values['true-peak'] as string, -12, 0);
  const loudness = loudnessRaw === 'off' ? null : { integratedLufs: numberFlag('loudness', loudnessRaw, -50, -5), truePeakDbtp: truePeak };
  return {
    kinds: parseKinds(values.kind as string),
    audio: {
      ...format,
      sampleRate: rate,
      channels,
      ...(values['mp3-kbps'] === undefined ? {} : { mp3BitrateKbps: numberFlag('mp3-kbps', values['mp3-kbps'] as string, 8, 320) }),
    },
    loudness,
    timing: { gapMs: numberFlag('gap-ms', values['gap-ms'] as string, 0, 60_000), crossfadeMs: numberFlag('crossfade-ms', values['crossfade-ms'] as string, 0, 60_000) },
    baseName: projectName,
    linePattern: values.naming as string,
    stemPattern: values['stem-naming'] as string,
    overwrite: values.overwrite === true,
    existingFileAdvice: 'pass --overwrite to replace it, or choose another --out folder',
    // A failed export removes the folders this run made, while empty.
    createFolder: true,
  };
}

function findProject(store: ProjectStore, wanted: string): string {
  const all = store.listProjects();
  if (all.some((p) => p.id === wanted)) return wanted;
  const byName = all.filter((p) => p.name === wanted);
  if (byName.length === 1) return byName[0].id;
  if (byName.length > 1) throw new AppError('invalid-input', `${byName.length} projects are named "${wanted}"; pass one of their ids: ${byName.map((p) => p.id).join(', ')}`);
  throw new AppError('not-found', `No project with id or name "${wanted}" in ${store.path}`);
}

function progressPrinter(): (p: { stage: string; fraction: number; detail: string }) => void {
  const tty = process.stderr.isTTY === true;
  let lastLine = '';
  return (p) => {
    const line = `[${String(Math.round(p.fraction * 100)).padStart(3)}%] ${p.detail}`;
    if (tty) process.stderr.write(`\r${line.padEnd(70)}`);
    else if (p.detail !== lastLine) process.stderr.write(`${line}\n`);
    lastLine = p.detail;
  };
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: joinNegativeValues(process.argv.slice(2)),
    allowPositionals: true,
    options: {
      out: { type: 'string', short: 'o' },
      kind: { type: 'string', default: 'all' },
      format: { type: 'string', default: 'wav24' },
      rate: { type: 'string', default: '44100' },
      channels: { type: 'string', default: '1' },
      loudness: { type: 'string', default: 'off' },
      'true-peak': { type: 'string', default: '-1' },
      'gap-ms': { type: 'string', default: '400' },
      'crossfade-ms': { type: 'string', default: '0' },
      naming: { type: 'string', default: '{index}-{speaker}-{words}' },
      'stem-naming': { type: 'string', default: '{project}-{name}' },
      'mp3-kbps': { type: 'string' },
      missing: { type: 'string', default: 'fail' },
      overwrite: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1 || !values.out) throw new UsageError('PROJECT and --out DIR are required');
  if (values.missing !== 'fail' && values.missing !== 'skip') throw new UsageError(`--missing must be fail or skip, got "${values.missing}"`);
  const presetNames: Record<string, number> = LOUDNESS_PRESETS;
  if (presetNames[values.loudness] !== undefined) values.loudness = String(presetNames[values.loudness]);

  // Relative paths are the user's: npm runs scripts from the package root (cli-support.ts).
  const dataDir = cliDataDir(values['data-dir']);
  const outDir = userPath(values.out);
  // Opening would create an empty store; a mistyped --data-dir should say so instead.
  const storeFile = join(dataDir, PROJECT_STORE_DIR, PROJECT_STORE_FILE);
  if (!existsSync(storeFile)) throw new AppError('not-found', `No project store at ${storeFile}; check --data-dir`);
  const projects = await openProjectStore(join(dataDir, PROJECT_STORE_DIR));
  try {
    const project = projects.loadProject(findProject(projects, positionals[0]));
    const options = parseOptions(values, project.name);
    const takes = await openTakeStore(join(dataDir, TAKE_CACHE_DIR));
    let loaded;
    try {
      loaded = loadExportInput(project, takes, { lineIds: null, missingTakes: values.missing });
    } finally {
      takes.close();
    }
    for (const why of loaded.skippedReasons) process.stderr.write(`export: skipping ${why}\n`);
    // A stop cancels the export: its clean-up removes the temp files, then the exit code tells
    // which signal stopped it.
    stop = stopOnSignals('export', 'stopping, removing temp files');
    try {
      const result = await exportProject(loaded.input, outDir, options, { signal: stop.signal, onProgress: progressPrinter() });
      if (process.stderr.isTTY) process.stderr.write('\n');
      for (const w of result.warnings) process.stderr.write(`export: warning: ${w}\n`);
      for (const f of result.files) process.stdout.write(`${f.path}\t${f.bytes}\n`);
      if (result.loudness) {
        const { before, after, gainDb } = result.loudness;
        process.stderr.write(
          `export: mix ${before.integratedLufs.toFixed(1)} LUFS -> ${after.integratedLufs.toFixed(1)} LUFS, ` +
            `true peak ${after.truePeakDbtp.toFixed(1)} dBTP, gain ${gainDb >= 0 ? '+' : ''}${gainDb.toFixed(1)} dB${result.loudness.limited ? ' (limited)' : ''}\n`,
        );
      }
      process.stderr.write(`export: ${result.files.length} file${result.files.length === 1 ? '' : 's'}, ${result.durationSeconds.toFixed(1)} s at ${result.sampleRate} Hz in ${outDir}\n`);
    } finally {
      stop.dispose();
    }
    return 0;
  } finally {
    projects.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (process.stderr.isTTY) process.stderr.write('\n');
    const by = stop?.stoppedBy();
    if (by && !isUsageError(err) && AppError.fromUnknown(err).code === 'cancelled') exitStopped('export', by);
    exitWithError('export', USAGE, err);
  },
);
