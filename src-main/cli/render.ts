// npm run render -- SCRIPT --out FILE.wav [--seed N] [--model ID] [--device auto|cpu|cuda|dml|coreml|webgpu]
//                  [--gap-ms 300] [--data-dir DIR]
// Renders a whole script headless through the same engine, cache and renderer as the app, and
// prints each line's real-time factor (RTF = generation time / audio duration, lower is better),
// and a warning for each line whose audio was cut at the longest pass (the model had not ended it).
// --model takes an installed model's id (the app's Model panel installs them). Relative paths
// are taken from the folder the command is run in. Ctrl+C, SIGTERM or SIGHUP stop it: the engine
// host is shut down, nothing is written, and the lines rendered so far stay in the take cache.
// Exit codes: 0 written, 1 failed, 2 bad command line or script, 128 + signal number when stopped.
import { existsSync } from 'node:fs';
import { open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, parse } from 'node:path';
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { describeLine } from '../../src-shared/describe-line.ts';
import { AppError } from '../../src-shared/errors.ts';
import { parseScript, isRenderable } from '../../src-shared/script/parse-script.ts';
import { DEMO_MODEL_ID } from '../engine/models/store.ts';
import { concatBytes, encodeWav } from '../audio/wav.ts';
import { concatFloat32 } from '../audio/samples.ts';
import { DEVICE_CHOICES, type DeviceChoice } from '../engine/host/protocol.ts';
import { StudioBackend } from '../render/studio-backend.ts';
import { processChannel } from '../engine/host/process-channel.ts';
import { hostLibraryPath } from '../engine/runtime/ort-user-runtime.ts';
import { fileError } from '../read-error.ts';
import { DEFAULT_RENDER_SETTINGS } from '../render/defaults.ts';
import { cliDataDir, exitStopped, exitWithError, joinNegativeValues, stopOnSignals, UsageError, userPath } from './cli-support.ts';
import { formatDiagnostics, readScriptFile } from './script-file.ts';

const USAGE = 'usage: npm run render -- SCRIPT --out FILE.wav [--seed N] [--model ID] [--device auto|cpu|cuda|dml|coreml|webgpu] [--gap-ms 300] [--data-dir DIR]';

const HELP = `${USAGE}
  SCRIPT                  UTF-8 text, one turn per speaker tag ([S1] Hi. [S2] Hello!)
  -o, --out FILE.wav      16-bit mono WAV of every line in order; an existing FILE.wav is replaced
  --seed N                sampling seed, 0..4294967295 (default 0); the same seed, text and model reuse the cached take
  --model ID              an installed model's id (default: the app's default model, else the demo model)
  --device D              auto|cpu|cuda|dml|coreml|webgpu (default auto)
  --gap-ms MS             silence between lines, 0..10000 (default 300)
  --data-dir DIR          app data folder: models and take cache (default: the app's)

Speakers use Dia's own voices (voice prompts are set in the app): [S1] and [S2] have built-in
ones, other speakers' voices can change from line to line.
Ctrl+C, SIGTERM or SIGHUP stop the render; nothing is written, rendered lines stay cached.
Exit codes: 0 written, 1 failed, 2 bad command line or script, 130/143/129 stopped by a signal.`;

/** A stop signal cancels the render under way. */
const stop = stopOnSignals('render', 'stopping; the lines rendered so far stay in the take cache');

function throwIfStopped(): void {
  if (stop.signal.aborted) throw new AppError('cancelled', 'Render stopped');
}

/** The hidden file the WAV is written to before it takes its name. */
function tempPath(out: string): string {
  return join(dirname(out), `.${basename(out)}.tmp-${process.pid}`);
}

/** Names of other audio formats: the WAV written under one would be misnamed. */
const OTHER_AUDIO_EXTENSION = /^\.(mp3|flac|ogg|oga|opus|m4a|aac|aiff?|wma)$/i;

/**
 * Refuses an output path that cannot be written, before any line is rendered: another format's
 * name, a missing folder, a folder given as the file, the script itself, or a folder this process
 * may not write into (tried with the WAV's temp file: that also answers for root and read-only volumes).
 */
async function checkOutput(out: string, script: string): Promise<void> {
  const { dir, ext } = parse(out);
  if (OTHER_AUDIO_EXTENSION.test(ext)) {
    throw new UsageError(`--out ${out}: render writes WAV audio only, which a ${ext} name would misname; give a .wav name and convert the WAV afterwards`);
  }
  const info = async (path: string) => {
    try {
      return await stat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new AppError('io-failed', `Cannot check --out ${out}: ${(err as Error).message}`, { cause: err });
    }
  };
  const folder = await info(dir);
  if (!folder) throw new AppError('not-found', `The folder of --out ${out} does not exist: create ${dir} first, or choose another --out`);
  if (!folder.isDirectory()) throw new AppError('invalid-input', `--out ${out}: ${dir} is a file, not a folder`);
  const target = await info(out);
  if (target?.isDirectory()) throw new AppError('invalid-input', `--out ${out} is a folder; give the WAV file to write, such as ${join(out, 'render.wav')}`);
  const source = target && (await info(script));
  if (source && source.dev === target.dev && source.ino === target.ino) {
    throw new UsageError(`--out ${out} is the script itself: give another file name for the WAV, such as ${join(dirname(script), `${parse(script).name}.wav`)}`);
  }
  const tmp = tempPath(out);
  try {
    await (await open(tmp, 'w')).close();
  } catch (err) {
    throw fileError(err, out, 'write');
  }
  await rm(tmp, { force: true });
}

/** Refuses a --model that is not an installed model's id, listing the ids there are. */
async function checkModelId(backend: StudioBackend, id: string): Promise<void> {
  if (id === DEMO_MODEL_ID) return; // built on first use
  const installed = (await backend.models.list()).map((m) => m.id);
  if (installed.includes(id)) return;
  const folder = /[\\/]/.test(id) || existsSync(userPath(id))
    ? '; a model folder cannot be loaded directly: install it in the app\'s Model panel, then pass its id'
    : '';
  const ids = installed.length ? `installed: ${installed.join(', ')}` : 'none is installed (without --model the demo model is used)';
  throw new AppError('not-found', `No model "${id}" in ${backend.models.root}${folder}. --model takes an installed model's id; ${ids}`);
}

/** A line whose audio stops mid-way because a pass ran to the longest pass (the exit code stays 0). */
function cutWarning(index: number, speaker: string, text: string): string {
  return `render: warning: ${describeLine(index, text, speaker)} ran to the longest pass before the model ended it, so its audio stops mid-way: shorten the line or split it into two lines`;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: joinNegativeValues(process.argv.slice(2)),
    allowPositionals: true,
    options: {
      out: { type: 'string', short: 'o' },
      seed: { type: 'string' },
      model: { type: 'string' },
      device: { type: 'string', default: 'auto' },
      'gap-ms': { type: 'string', default: '300' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (!positionals[0] || !values.out) throw new UsageError('SCRIPT and --out FILE.wav are required');
  if (positionals.length > 1) throw new UsageError(`one SCRIPT at a time, got ${positionals.length}: ${positionals.join(' ')}`);
  const seed = values.seed === undefined ? 0 : Number(values.seed);
  if (values.seed?.trim() === '' || !Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) throw new UsageError(`--seed must be an integer in 0..4294967295, got ${values.seed}`);
  const gapMs = Number(values['gap-ms']);
  if (values['gap-ms']!.trim() === '' || !Number.isFinite(gapMs) || gapMs < 0 || gapMs > 10_000) throw new UsageError(`--gap-ms must be between 0 and 10000, got ${values['gap-ms']}`);
  if (!(DEVICE_CHOICES as readonly string[]).includes(values.device!)) throw new UsageError(`--device must be one of ${DEVICE_CHOICES.join(', ')}, got ${values.device}`);
  const scriptPath = userPath(positionals[0]);
  const out = userPath(values.out);
  const dataDir = cliDataDir(values['data-dir']);
  await checkOutput(out, scriptPath);

  const text = await readScriptFile(scriptPath);
  const script = parseScript(text);
  const errors = script.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) {
    for (const line of formatDiagnostics(text, errors, scriptPath)) process.stderr.write(`${line}\n`);
    process.stderr.write(`render: ${errors.length} error(s) in the script; nothing rendered\n`);
    return 2;
  }
  const lines = script.lines.filter(isRenderable);
  if (!lines.length) {
    process.stderr.write(`render: ${scriptPath} has no lines to render (lines start with a speaker tag such as [S1])\n`);
    return 2;
  }
  const notes = script.diagnostics.filter((d) => d.severity !== 'error');
  for (const line of formatDiagnostics(text, notes, scriptPath)) process.stderr.write(`${line}\n`);

  // The engine host gets the CUDA libraries the app set up in this data folder (Model panel).
  const backend = await StudioBackend.open({ dataDir, device: values.device as DeviceChoice, engineChannel: () => processChannel(hostLibraryPath(dataDir)) });
  // A stop shuts the engine host down at once (a model load or a pass under way fails as
  // cancelled); the finally below then closes the stores and releases the model.
  const shutDownEngine = (): void => void backend.engine.close({ final: true });
  stop.signal.addEventListener('abort', shutDownEngine, { once: true });
  try {
    throwIfStopped();
    if (values.model !== undefined) await checkModelId(backend, values.model);
    const status = await backend.loadModel(values.model);
    process.stderr.write(`model ${status.modelName} (${status.precision}, ${status.device} via ${status.executionProvider}, ${status.stepsPerRun} step${status.stepsPerRun === 1 ? '' : 's'} per decoder run${status.cacheOnDevice ? ', KV cache kept on the GPU' : ''})${status.isDemo ? ' — demo model: random weights, sounds like noise' : ''}\n`);
    if (status.fallbackMessage) process.stderr.write(`note: ${status.fallbackMessage}\n`);
    const projectId = `cli-${createHash('sha256').update(scriptPath).digest('hex').slice(0, 16)}`;
    const parts: Float32Array[] = [];
    let sampleRate = 44100;
    const gap = (rate: number): Float32Array => new Float32Array(Math.round((gapMs / 1000) * rate));
    process.stdout.write('line  speaker  audio_s  ttfa_ms  rtf (generation time / audio duration)  source\n');
    for (const line of lines) {
      const { take, cached } = await backend.renderer.render(
        { line: { projectId, lineId: line.id, text: line.text }, speaker: line.speaker, seed, ...DEFAULT_RENDER_SETTINGS(status.flavour), voicePrompt: null, context: null },
        {},
        stop.signal,
      );
      sampleRate = take.sampleRate;
      if (parts.length) parts.push(gap(sampleRate));
      parts.push(backend.takes.readAudio(take.id));
      const m = take.metrics;
      process.stdout.write(`${String(line.index + 1).padStart(4)}  ${line.speaker.padEnd(7)}  ${m.durationSeconds.toFixed(2).padStart(7)}  ${m.ttfaMs.toFixed(0).padStart(7)}  ${m.rtf.toFixed(3).padStart(6)}  ${cached ? 'cache' : 'rendered'}\n`);
      if (take.metrics.cut) process.stderr.write(`${cutWarning(line.index, line.speaker, line.text)}\n`);
    }
    const total = concatFloat32(parts);
    const tmp = tempPath(out);
    try {
      await writeFile(tmp, concatBytes(encodeWav([total], sampleRate, 'pcm16', { what: out })));
      throwIfStopped();
      await rename(tmp, out);
    } catch (err) {
      await rm(tmp, { force: true });
      throw fileError(err, out, 'write');
    }
    process.stderr.write(`wrote ${out} (${(total.length / sampleRate).toFixed(2)} s, ${lines.length} lines)\n`);
    return 0;
  } finally {
    stop.signal.removeEventListener('abort', shutDownEngine);
    await backend.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Whatever failed once a stop was asked (a cancelled pass, a host the Ctrl+C reached first) is the stop.
    const by = stop.stoppedBy();
    if (by) exitStopped('render', by);
    exitWithError('render', USAGE, err);
  },
);
