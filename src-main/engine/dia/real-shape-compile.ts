// Compiling at the real Dia-1.6B shapes, measured: writes a random-weight checkpoint with the real
// shapes (never committed), compiles it per precision in a child process (so each peak RSS is its
// own), and times decoder steps against a half-full cache, counting the bytes each step returns.
// Too slow for the test suite; run by hand:
//   node src-main/engine/dia/real-shape-compile.ts <workDir> [fp32,int4] [BF16]
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { compileDia, loadCompiledDia, type CompiledDia } from './compile.ts';
import { DiaRunner } from './dia-runner.ts';
import { floatToHalfBits } from '../checkpoint/half.ts';
import type { KvData } from '../onnx/kv-tensors.ts';
import { DIA_1_6B_CONFIG, writeRandomDiaCheckpoint, type RandomCheckpointOptions } from './random-checkpoint.ts';
import type { DiaPrecision } from './weight-emitter.ts';

export interface CompileMeasurement {
  precision: DiaPrecision;
  seconds: number;
  peakRssMiB: number;
  dataBytes: number;
}

export interface StepMeasurement {
  precision: DiaPrecision;
  batch: number;
  cachedRows: number;
  msPerStep: number;
  /** Bytes the graph returns per step (logits + new K/V rows). */
  bytesOutPerStep: number;
  /** What a design returning the whole updated cache would move per step. */
  naiveBytesOutPerStep: number;
}

export async function writeRealShapeCheckpoint(dir: string, dtype: RandomCheckpointOptions['dtype'] = 'BF16'): Promise<void> {
  if (existsSync(join(dir, 'model.safetensors'))) return;
  await writeRandomDiaCheckpoint(dir, DIA_1_6B_CONFIG, { dtype, seed: 1 });
}

/** Runs one compile in a fresh Node process and reports its wall time and peak resident memory. */
export function measureCompileInChild(checkpointDir: string, outDir: string, precision: DiaPrecision): Promise<CompileMeasurement> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [import.meta.filename, '--compile-one', checkpointDir, outDir, precision], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`compile child for ${precision} exited with ${code}`));
      resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as CompileMeasurement);
    });
  });
}

async function compileOne(checkpointDir: string, outDir: string, precision: DiaPrecision): Promise<CompileMeasurement> {
  const t0 = performance.now();
  const compiled = await compileDia(checkpointDir, outDir, { precision });
  const seconds = (performance.now() - t0) / 1000;
  const dataBytes = [compiled.graphs.encoder, compiled.graphs.crossKv, compiled.graphs.decoder].reduce((s, g) => s + statSync(g.dataPath!).size, 0);
  // maxRSS is in KiB on Linux and macOS.
  return { precision, seconds, peakRssMiB: process.resourceUsage().maxRSS / 1024, dataBytes };
}

/** Times single-row decoder steps for `batch` rows with `cachedRows` rows already in the cache. */
export async function measureDecodeStep(compiled: CompiledDia, batch: number, cachedRows: number, textLen: number, steps = 5): Promise<StepMeasurement> {
  const runner = await DiaRunner.load(compiled, { intraOpNumThreads: 0 });
  const c = compiled.config;
  const { layers, crossAttention: ca, selfAttention: sa, channels, vocab } = c.decoder;
  const crossSize = layers * batch * ca.kvHeads * textLen * ca.headDim;
  // Cross K/V in the decoder's K/V dtype (fp16 models take half bits).
  const half = runner.kvType === 'float16';
  const filled = (v: number): KvData => (half ? new Uint16Array(crossSize).fill(floatToHalfBits(v)) : new Float32Array(crossSize).fill(v));
  const cross = { batch, textLen, key: filled(0.01), value: filled(0.02), mask: new Uint8Array(batch * textLen).fill(1) };
  const cache = runner.newCache(batch, cachedRows + steps + 1);
  const tokens = new Array<number>(batch * channels).fill(5);
  await runner.decode(tokens, 1, new Array<number>(batch).fill(cachedRows), cache, cross); // warm-up
  const t0 = performance.now();
  let bytesOut = 0;
  for (let s = 1; s <= steps; s++) {
    const out = await runner.decode(tokens, 1, new Array<number>(batch).fill(cachedRows + s), cache, cross);
    bytesOut = out.logits.byteLength + out.newKey.byteLength + out.newValue.byteLength;
  }
  const msPerStep = (performance.now() - t0) / steps;
  await runner.release();
  const fullCache = 2 * layers * batch * sa.kvHeads * (cachedRows + 1) * sa.headDim * (half ? 2 : 4);
  return { precision: compiled.precision, batch, cachedRows, msPerStep, bytesOutPerStep: bytesOut, naiveBytesOutPerStep: fullCache + batch * channels * vocab * 4 };
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--compile-one') {
    const [, checkpointDir, outDir, precision] = argv;
    console.log(JSON.stringify(await compileOne(checkpointDir, outDir, precision as DiaPrecision)));
    return;
  }
  const [workDir, precisionList = 'fp32,int4', dtype = 'BF16'] = argv;
  if (!workDir) throw new Error('usage: real-shape-compile.ts <workDir> [fp32,int4] [BF16|F16|F32]');
  const checkpointDir = join(workDir, 'checkpoint');
  const t0 = performance.now();
  await writeRealShapeCheckpoint(checkpointDir, dtype as RandomCheckpointOptions['dtype']);
  console.error(`checkpoint ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  for (const precision of precisionList.split(',') as DiaPrecision[]) {
    const outDir = join(workDir, precision);
    await rm(outDir, { recursive: true, force: true });
    console.log(JSON.stringify(await measureCompileInChild(checkpointDir, outDir, precision)));
    if (precision === 'int4') {
      const compiled = await loadCompiledDia(outDir);
      for (const cachedRows of [256, 1536]) console.log(JSON.stringify(await measureDecodeStep(compiled, 2, cachedRows, 256)));
    }
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
