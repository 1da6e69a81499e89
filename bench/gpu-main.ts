// The body of npm run bench:gpu (options and report: bench/gpu.ts), loaded once the process runs
// with the engine host's library path.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { Precision } from '../src-main/engine/models/manifest.ts';
import { DIA_1_6B_CONFIG, DIA_TINY_CONFIG } from '../src-main/engine/dia/random-checkpoint.ts';
import { encodedLength } from '../src-main/engine/generation/tokenizer.ts';
import { DIA_AUDIO_TOKENS, maxDelay } from '../src-main/engine/generation/types.ts';
import { UNROLLED_STEPS } from '../src-main/engine/dia/graph-io.ts';
import { BENCH_TEXT, measure, prepare, type MeasureRow } from './engine-measure.ts';
import { GPU_DEVICES, probeProvider, stepFloor, type GpuDevice, type StepFloor } from './gpu-support.ts';

const OUT = join(import.meta.dirname, 'out', 'gpu');
const REFERENCE_SCRIPT = join(import.meta.dirname, '..', 'tools', 'bench_reference.py');
const EXIT_NO_GPU = 2;
const GPU_SETUP_HINT: Record<GpuDevice, string> = {
  cuda: 'It needs an NVIDIA GPU and the CUDA provider libraries of onnxruntime-node (npm install without ONNXRUNTIME_NODE_INSTALL=skip).',
  webgpu: 'It needs a GPU adapter the bundled WebGPU provider can open (Vulkan, D3D12 or Metal).',
  dml: 'It needs Windows and the DirectML build of onnxruntime-node.',
};

/** Raised for bad arguments and a missing GPU; main() prints the message alone and exits with `exitCode`. */
class BenchExit extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

interface GpuArgs {
  device: GpuDevice | 'cpu';
  smoke: boolean;
  steps: number;
  batches: number[];
  precisions: Precision[];
  bandwidthGbs: number;
  reference: boolean;
  /** Rows per decoder run to compare side by side; targets use the largest (the app's GPU default). */
  stepsPerRun: number[];
  /** Keep runs at --steps-per-run rows instead of stretching them as the cache grows. */
  fixedRuns: boolean;
  /** Multi-step rows run the unrolled graph (--unrolled, or a device without a Loop kernel). */
  unrolled: boolean;
  profile: boolean;
  /** Skip the warm-up line the app runs at load: ttfa_ms then includes the provider's first-run setup. */
  cold: boolean;
}

function parseGpuArgs(): GpuArgs {
  const { values } = parseArgs({
    options: {
      device: { type: 'string' },
      steps: { type: 'string', default: '300' },
      batches: { type: 'string', default: '1,8' },
      precisions: { type: 'string', default: 'fp16,fp32' },
      'bandwidth-gbs': { type: 'string', default: '3350' },
      'no-reference': { type: 'boolean', default: false },
      'steps-per-run': { type: 'string' },
      'fixed-runs': { type: 'boolean', default: false },
      unrolled: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      cold: { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
      // Read by bench/gpu.ts before this module loads (the engine host's library path).
      'data-dir': { type: 'string' },
    },
  });
  const smoke = values.smoke!;
  const device = (values.device ?? (smoke ? 'cpu' : 'cuda')) as GpuDevice | 'cpu';
  if (device === 'cpu' ? !smoke : !GPU_DEVICES.includes(device)) throw new BenchExit(`--device must be one of ${GPU_DEVICES.join(', ')}, got "${values.device}"`, 1);
  const positiveInt = (flag: string, text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new BenchExit(`${flag} needs positive integers, got "${text}"`, 1);
    return n;
  };
  const precisions = values.precisions!.split(',') as Precision[];
  const bad = precisions.find((p) => p !== 'fp16' && p !== 'fp32');
  if (bad) throw new BenchExit(`--precisions takes fp16 and/or fp32 (GPU providers do not run int4), got "${bad}"`, 1);
  // DirectML and WebGPU have no Loop kernel: their multi-step rows are measured on the unrolled graph.
  const unrolled = values.unrolled! || device === 'dml' || device === 'webgpu';
  const stepsPerRun = (values['steps-per-run'] ?? (unrolled ? `1,${UNROLLED_STEPS}` : '1,8,16')).split(',').map((k) => positiveInt('--steps-per-run', k));
  if (unrolled && stepsPerRun.some((k) => k !== 1 && k !== UNROLLED_STEPS)) throw new BenchExit(`the unrolled graph runs ${UNROLLED_STEPS} steps per run: --steps-per-run takes 1 and ${UNROLLED_STEPS} with it`, 1);
  const steps = positiveInt('--steps', values.steps!);
  // A line's first full audio frame comes after its delay pattern's rows (the engine refuses less).
  const minSteps = maxDelay(DIA_AUDIO_TOKENS.delayPattern) + 2;
  if (steps < minSteps) throw new BenchExit(`--steps must be at least ${minSteps}: a line generates its delay pattern's ${minSteps - 1} rows before its first full audio frame`, 1);
  const bandwidthGbs = Number(values['bandwidth-gbs']);
  if (!(bandwidthGbs > 0)) throw new BenchExit(`--bandwidth-gbs must be a positive number of GB/s, got "${values['bandwidth-gbs']}"`, 1);
  return {
    device,
    smoke,
    steps,
    batches: values.batches!.split(',').map((b) => positiveInt('--batches', b)),
    precisions,
    bandwidthGbs,
    reference: !values['no-reference'],
    stepsPerRun,
    fixedRuns: values['fixed-runs']!,
    unrolled,
    profile: values.profile!,
    cold: values.cold!,
  };
}

interface ReferenceRow {
  mode: 'eager' | 'compiled';
  batch: number;
  steps_per_s: number;
  ttft_ms: number;
  rtf: number;
}

interface ReferenceReport {
  results: ReferenceRow[];
  [key: string]: unknown;
}

/** Runs tools/bench_reference.py (interpreter from $PYTHON, default python3) and parses its JSON. */
function runReference(args: GpuArgs): Promise<ReferenceReport> {
  const python = process.env.PYTHON || 'python3';
  const argv = [REFERENCE_SCRIPT, '--batch', args.batches.join(','), '--steps', String(args.steps), '--json', ...(args.smoke ? ['--tiny', '--device', 'cpu'] : [])];
  process.stderr.write(`reference: ${python} ${argv.join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(python, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.on('error', (err) => reject(new Error(`cannot start ${python} (set PYTHON to the interpreter with torch + transformers): ${err.message}`)));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${REFERENCE_SCRIPT} exited with code ${code} (its stderr is above)`));
      try {
        const parsed = JSON.parse(stdout) as ReferenceReport;
        if (!Array.isArray(parsed.results)) throw new Error('no "results" array');
        resolve(parsed);
      } catch (err) {
        reject(new Error(`${REFERENCE_SCRIPT} printed invalid JSON: ${(err as Error).message}`));
      }
    });
  });
}

type GpuRow = MeasureRow & { floor: StepFloor; engine_step_over_floor: number };

interface Target {
  name: string;
  target: string;
  measured: number | null;
  met: boolean | null;
}

const round = (x: number, digits = 2): number => +x.toFixed(digits);

function comparisons(rows: GpuRow[], reference: ReferenceReport | undefined, batches: number[], stepsPerRun: number) {
  const fp16 = (batch: number): GpuRow | undefined => rows.find((r) => r.precision === 'fp16' && r.batch === batch && r.steps_per_run === stepsPerRun);
  const ref = (mode: string, batch: number): ReferenceRow | undefined => reference?.results.find((r) => r.mode === mode && r.batch === batch);
  const ratios = batches.map((batch) => {
    const ours = fp16(batch);
    const eager = ref('eager', batch);
    const compiled = ref('compiled', batch);
    return {
      batch,
      // Our steps/s includes DAC decoding of the streamed audio; the reference's stops at codes.
      steps_per_s_vs_reference_eager: ours && eager ? round(ours.steps_per_s / eager.steps_per_s) : null,
      steps_per_s_vs_reference_compiled: ours && compiled ? round(ours.steps_per_s / compiled.steps_per_s) : null,
    };
  });
  const one = fp16(1);
  const eight = fp16(8);
  // Aggregate audio seconds per second = batch / RTF, since RTF is per item.
  const scaling = one && eight ? round((8 / eight.rtf) / (1 / one.rtf)) : null;
  const bestRef = Math.max(...(reference?.results.filter((r) => r.batch === 1).map((r) => r.steps_per_s) ?? []));
  const vsBest = one && Number.isFinite(bestRef) ? round(one.steps_per_s / bestRef) : null;
  const check = (name: string, target: string, measured: number | null | undefined, ok: (v: number) => boolean): Target =>
    ({ name, target, measured: measured ?? null, met: measured == null ? null : ok(measured) });
  const targets: Target[] = [
    check('rtf_batch1_fp16', '<= 0.1', one?.rtf, (v) => v <= 0.1),
    check('ttfa_ms_batch1_fp16', '<= 150', one?.ttfa_ms, (v) => v <= 150),
    check('steps_per_s_vs_faster_reference_batch1', '>= 2', vsBest, (v) => v >= 2),
    check('aggregate_audio_per_s_batch8_over_batch1', '>= 6', scaling, (v) => v >= 6),
  ];
  return { ratios, aggregate_audio_per_s_batch8_over_batch1: scaling, targets };
}

async function main(): Promise<void> {
  const args = parseGpuArgs();
  const probe = await probeProvider(args.device, 'float32');
  if (!probe.ok) {
    const hint = args.device === 'cpu' ? '' : ` ${GPU_SETUP_HINT[args.device]}`;
    throw new BenchExit(`no GPU provider: ${args.device.toUpperCase()} cannot run on this machine (${probe.reason}).${hint} See docs/GPU.md.`, EXIT_NO_GPU);
  }
  // A WebGPU device may lack fp16 shaders; the fp16 rows would silently land on the CPU.
  const half = args.precisions.includes('fp16') ? await probeProvider(args.device, 'float16') : { ok: true as const };
  if (!half.ok) throw new BenchExit(`${args.device.toUpperCase()} runs here but not in fp16 (${half.reason}): measure with --precisions fp32`, EXIT_NO_GPU);
  process.stderr.write(`${args.device} provider ok${args.smoke ? ` (smoke run: tiny shapes on ${args.device}, not a measurement)` : ''}\n`);
  const shape = args.smoke ? 'tiny' : 'real';
  const config = args.smoke ? DIA_TINY_CONFIG : DIA_1_6B_CONFIG;
  const modelDir = await prepare(shape, args.precisions, OUT);
  const textLength = encodedLength(BENCH_TEXT);
  const rows: GpuRow[] = [];
  // A row that fails (a CUDA kernel error, out of memory) is reported and the run goes on: the
  // other rows and the reference are worth the lent GPU's time on their own.
  const failedRows: Array<{ precision: Precision; batch: number; steps_per_run: number; error: string }> = [];
  // CUDA runs several steps per run only with the fp16 graphs (load-model.ts: checkStepsPerRun).
  const perRun = (precision: Precision): number[] => (args.device === 'cuda' && precision !== 'fp16' ? [1] : args.stepsPerRun);
  for (const precision of args.precisions) for (const batch of args.batches) for (const stepsPerRun of perRun(precision)) {
    process.stderr.write(`measuring ${precision} batch ${batch}, ${stepsPerRun} steps per run, on ${args.device}\n`);
    const profileDir = args.profile ? join(OUT, 'profiles') : undefined;
    let row: MeasureRow;
    try {
      row = await measure({ shape, modelDir, precision, batch, steps: args.steps, device: args.device, requireProvider: args.device, stepsPerRun, profileDir, fixedRuns: args.fixedRuns, unrolled: stepsPerRun > 1 ? args.unrolled : undefined, cold: args.cold });
    } catch (err) {
      const failed = { precision, batch, steps_per_run: stepsPerRun, error: (err as Error).message };
      failedRows.push(failed);
      process.stderr.write(`row-failed ${JSON.stringify(failed)}\n`);
      continue;
    }
    const floor = stepFloor(config, batch, args.steps, textLength, args.bandwidthGbs);
    // The floor assumes fp16 bytes; fp32 reads twice as much, so compare it against a doubled floor.
    const floorMs = floor.floor_ms_per_step * (precision === 'fp32' ? 2 : 1);
    const full = { ...row, floor, engine_step_over_floor: round(row.engine_step_ms / floorMs) };
    rows.push(full);
    // Each row as soon as it is measured: a run cut short (a lent GPU's time limit, a reference
    // compile that does not finish) still leaves the rows it measured (tools/gpu-run.sh keeps stderr).
    process.stderr.write(`row ${JSON.stringify(full)}\n`);
  }
  let reference: ReferenceReport | undefined;
  let referenceError: string | undefined;
  if (args.reference) {
    try {
      reference = await runReference(args);
    } catch (err) {
      referenceError = (err as Error).message;
    }
  }
  const report = {
    bench: 'gpu',
    ...(args.smoke ? { smoke: `tiny shapes on ${args.device}: checks the pipeline, measures nothing` } : {}),
    rtf_convention: 'generation time / audio duration (lower is better)',
    device: args.device,
    cpus: availableParallelism(),
    node: process.version,
    onnxruntime: ort.env.versions.common,
    floor_note: 'floor = (fp16 decoder weights one step reads + mean KV cache reads) / --bandwidth-gbs; engine_step_over_floor = measured step / floor',
    results: rows,
    ...(failedRows.length ? { failed_rows: failedRows } : {}),
    reference: reference ?? { error: referenceError ?? 'skipped (--no-reference)' },
    targets_use_steps_per_run: Math.max(...args.stepsPerRun),
    ...comparisons(rows, reference, args.batches, Math.max(...args.stepsPerRun)),
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  if (referenceError) throw new BenchExit(`the reference run failed: ${referenceError}`, 1);
  if (failedRows.length) throw new BenchExit(`${failedRows.length} of ${rows.length + failedRows.length} rows failed (failed_rows in the report)`, 1);
}

main().catch((err: unknown) => {
  if (err instanceof BenchExit) {
    process.stderr.write(`bench:gpu: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(`bench:gpu failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
