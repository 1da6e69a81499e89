// npm run render -- SCRIPT --out FILE.wav [--seed N] [--model ID|DIR] [--device auto|cpu|cuda|dml|coreml|webgpu]
//                  [--gap-ms 300] [--data-dir DIR]
// Renders a whole script headless through the same engine, cache and renderer as the app, and
// prints each line's real-time factor (RTF = generation time / audio duration, lower is better).
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { AppError } from '../../src-shared/errors.ts';
import { parseScript, isRenderable } from '../../src-shared/script/parse-script.ts';
import { resolveDataDir } from '../engine/models/paths.ts';
import { concatBytes, encodeWav } from '../audio/wav.ts';
import { concatFloat32 } from '../audio/samples.ts';
import { DEVICE_CHOICES, type DeviceChoice } from '../engine/host/protocol.ts';
import { StudioBackend } from '../render/studio-backend.ts';
import { processChannel } from '../engine/host/process-channel.ts';
import { hostLibraryPath } from '../engine/runtime/ort-user-runtime.ts';
import { DEFAULT_RENDER_SETTINGS } from '../render/defaults.ts';

const USAGE = 'usage: npm run render -- SCRIPT --out FILE.wav [--seed N] [--model ID] [--device auto|cpu|cuda|dml|coreml|webgpu] [--gap-ms 300] [--data-dir DIR]';

function fail(message: string, code = 2): never {
  process.stderr.write(`render: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
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
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const scriptPath = positionals[0];
  if (!scriptPath || !values.out) fail(USAGE);
  const seed = values.seed === undefined ? 0 : Number(values.seed);
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) fail(`--seed must be an integer in 0..4294967295, got ${values.seed}`);
  const gapMs = Number(values['gap-ms']);
  if (!Number.isFinite(gapMs) || gapMs < 0 || gapMs > 10_000) fail(`--gap-ms must be between 0 and 10000, got ${values['gap-ms']}`);
  if (!(DEVICE_CHOICES as readonly string[]).includes(values.device!)) fail(`--device must be one of ${DEVICE_CHOICES.join(', ')}`);

  let text: string;
  try {
    text = await readFile(scriptPath, 'utf8');
  } catch (err) {
    fail(`cannot read ${scriptPath}: ${(err as Error).message}`);
  }
  const script = parseScript(text);
  const errors = script.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) {
    for (const d of errors) {
      const line = text.slice(0, d.from).split('\n').length;
      process.stderr.write(`${scriptPath}:${line}: ${d.message}\n`);
    }
    fail(`${errors.length} error(s) in the script; nothing rendered`);
  }
  const lines = script.lines.filter(isRenderable);
  if (!lines.length) fail(`${scriptPath} has no lines to render (lines start with a speaker tag such as [S1])`);

  const dataDir = values['data-dir'] ? resolve(values['data-dir']) : resolveDataDir();
  // The engine host gets the CUDA libraries the app set up in this data folder (Model panel).
  const backend = await StudioBackend.open({ dataDir, device: values.device as DeviceChoice, engineChannel: () => processChannel(hostLibraryPath(dataDir)) });
  try {
    const status = await backend.loadModel(values.model);
    process.stderr.write(`model ${status.modelName} (${status.precision}, ${status.device} via ${status.executionProvider}, ${status.stepsPerRun} step${status.stepsPerRun === 1 ? '' : 's'} per decoder run${status.cacheOnDevice ? ', KV cache kept on the GPU' : ''})${status.isDemo ? ' — demo model: random weights, sounds like noise' : ''}\n`);
    if (status.fallbackMessage) process.stderr.write(`note: ${status.fallbackMessage}\n`);
    const projectId = `cli-${createHash('sha256').update(resolve(scriptPath)).digest('hex').slice(0, 16)}`;
    const parts: Float32Array[] = [];
    let sampleRate = 44100;
    const gap = (rate: number): Float32Array => new Float32Array(Math.round((gapMs / 1000) * rate));
    process.stdout.write('line  speaker  audio_s  ttfa_ms  rtf (generation time / audio duration)  source\n');
    for (const line of lines) {
      const { take, cached } = await backend.renderer.render(
        { line: { projectId, lineId: line.id, text: line.text }, speaker: line.speaker, seed, ...DEFAULT_RENDER_SETTINGS(status.flavour), voicePrompt: null, context: null },
        {},
      );
      sampleRate = take.sampleRate;
      if (parts.length) parts.push(gap(sampleRate));
      parts.push(backend.takes.readAudio(take.id));
      const m = take.metrics;
      process.stdout.write(`${String(line.index + 1).padStart(4)}  ${line.speaker.padEnd(7)}  ${m.durationSeconds.toFixed(2).padStart(7)}  ${m.ttfaMs.toFixed(0).padStart(7)}  ${m.rtf.toFixed(3).padStart(6)}  ${cached ? 'cache' : 'rendered'}\n`);
    }
    const total = concatFloat32(parts);
    const out = resolve(values.out!);
    const tmp = `${dirname(out)}/.${basename(out)}.tmp-${process.pid}`;
    try {
      await writeFile(tmp, concatBytes(encodeWav([total], sampleRate, 'pcm16', { what: out })));
      await rename(tmp, out);
    } catch (err) {
      await rm(tmp, { force: true });
      throw AppError.fromUnknown(err);
    }
    process.stderr.write(`wrote ${out} (${(total.length / sampleRate).toFixed(2)} s, ${lines.length} lines)\n`);
  } finally {
    await backend.close();
  }
}

main().catch((err: unknown) => {
  const e = AppError.fromUnknown(err);
  fail(`${e.message} [${e.code}]`, 1);
});
