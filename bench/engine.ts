// npm run bench:engine [-- --shapes tiny,real --precisions fp32,int4 --batches 1,4 --steps 60
//                         --steps-per-run 1,8 --unrolled --profile]
// Prints JSON: per configuration {model, precision, device, batch, steps_per_s, rtf, ttfa_ms,
// engine_overhead_pct, ...}. RTF = generation time / audio duration (lower is better).
// "real" builds a random-weight checkpoint at the real Dia-1.6B shapes locally (cached under
// bench/out, never committed). engine_overhead_pct compares the engine's decoding loop with bare
// session.run calls on the same feeds, measured in the same run.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { Precision } from '../src-main/engine/models/manifest.ts';
import { measure, prepare, type BenchShape, type MeasureRow } from './engine-measure.ts';

const OUT = join(import.meta.dirname, 'out');

const { values } = parseArgs({
  options: {
    shapes: { type: 'string', default: 'tiny,real' },
    precisions: { type: 'string', default: 'fp32,int4' },
    batches: { type: 'string', default: '1,4' },
    steps: { type: 'string', default: '60' },
    'steps-per-run': { type: 'string', default: '1' },
    /** Multi-step rows run the unrolled graph (fp16 models; its own fixed step count). */
    unrolled: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
  },
});

async function main(): Promise<void> {
  const shapes = values.shapes!.split(',') as BenchShape[];
  const precisions = values.precisions!.split(',') as Precision[];
  const batches = values.batches!.split(',').map(Number);
  const steps = Number(values.steps);
  const perRun = values['steps-per-run']!.split(',').map(Number);
  const rows: MeasureRow[] = [];
  for (const shape of shapes) {
    const dir = await prepare(shape, precisions, OUT);
    for (const precision of precisions) for (const batch of batches) for (const stepsPerRun of perRun) {
      const profileDir = values.profile ? join(OUT, 'profiles') : undefined;
      rows.push(await measure({ shape, modelDir: dir, precision, batch, device: 'cpu', steps: shape === 'tiny' ? Math.max(steps, 200) : steps, stepsPerRun, profileDir, unrolled: stepsPerRun > 1 && values.unrolled ? true : undefined }));
    }
  }
  process.stdout.write(`${JSON.stringify({ bench: 'engine', rtf_convention: 'generation time / audio duration (lower is better)', cpus: availableParallelism(), node: process.version, onnxruntime: ort.env.versions.common, results: rows }, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:engine failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
