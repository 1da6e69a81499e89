// bench:gpu must work when a GPU is finally lent: its --smoke mode runs the whole pipeline (model
// build, steps-per-run rows, profile split, floor, targets) on the CPU at the tiny shapes.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { UNROLLED_STEPS } from '../src-main/engine/dia/graph-io.ts';
import { existsSync } from 'node:fs';
import { LAVAPIPE_ICD, softwareWebGpu } from '../src-main/engine/runtime/testing/software-webgpu.ts';

// Sets the environment the spawned bench inherits (SwiftShader's Vulkan driver).
const webgpu = await softwareWebGpu();

const BENCH = join(import.meta.dirname, 'gpu.ts');

/** A smoke run takes well under a minute alone; a CI machine that is busy elsewhere may take minutes. */
const RUN_TIMEOUT_MS = 300_000;

function bench(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [BENCH, ...args], { encoding: 'utf8', timeout: RUN_TIMEOUT_MS, env: { ...process.env, ...env } });
}

// The fp16 WebGPU run goes to Mesa's lavapipe, which has shader-f16 (tools/install-lavapipe.sh).
const lavapipe = existsSync(LAVAPIPE_ICD);
if (!lavapipe && process.env.CI) throw new Error(`bench:gpu's fp16 WebGPU test needs ${LAVAPIPE_ICD} (bash tools/install-lavapipe.sh)`);

describe('bench:gpu', { timeout: 2 * RUN_TIMEOUT_MS }, () => {
  it('runs its pipeline end to end in a smoke run and prints the report', () => {
    const run = bench(['--smoke', '--no-reference', '--steps', '20', '--batches', '1,2', '--precisions', 'fp16', '--steps-per-run', '1,4', '--fixed-runs', '--profile']);
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ bench: 'gpu', device: 'cpu', targets_use_steps_per_run: 4, reference: { error: 'skipped (--no-reference)' } });
    expect(report.smoke).toContain('measures nothing');
    expect(report.results).toHaveLength(4);
    // Each row also went to stderr as it was measured (a run cut short keeps them).
    const early = run.stderr.split('\n').filter((l) => l.startsWith('row ')).map((l) => JSON.parse(l.slice(4)));
    expect(early).toEqual(report.results);
    for (const batch of [1, 2]) {
      const [one, four] = [1, 4].map((k) => report.results.find((r: { batch: number; steps_per_run: number }) => r.batch === batch && r.steps_per_run === k));
      expect(one.steps).toBeGreaterThan(0);
      expect(four.decoder_runs).toBeLessThan(one.decoder_runs);
      expect(one.rows_per_run_mean).toBe(1);
      expect(four.rows_per_run_mean).toBeGreaterThan(1);
      expect(four.rows_per_run_mean).toBeLessThanOrEqual(4);
      // Several steps per run copy the inputs once per run, not once per row.
      expect(four.host_input_bytes_per_step).toBeLessThan(one.host_input_bytes_per_step / 2);
      expect(four.profile.kernels_per_run).toBeGreaterThan(one.profile.kernels_per_run);
      expect(four.profile.loop_overhead_ms).toBeGreaterThan(0);
    }
    expect(report.targets.map((t: { name: string }) => t.name)).toEqual([
      'rtf_batch1_fp16', 'ttfa_ms_batch1_fp16', 'steps_per_s_vs_faster_reference_batch1', 'aggregate_audio_per_s_batch8_over_batch1',
    ]);
  });

  it('rejects bad arguments with a clear message', () => {
    const run = bench(['--smoke', '--precisions', 'int4']);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('--precisions takes fp16 and/or fp32');
    const unrolled = bench(['--smoke', '--unrolled', '--steps-per-run', '1,16']);
    expect(unrolled.status).toBe(1);
    expect(unrolled.stderr).toContain(`the unrolled graph runs ${UNROLLED_STEPS} steps per run`);
    const short = bench(['--smoke', '--steps', '10']);
    expect(short.status).toBe(1);
    expect(short.stderr).toContain('--steps must be at least 17');
  });

  it.runIf(webgpu.ok)('runs on WebGPU (SwiftShader, fp32): both graphs with their cache on the device, and the copies each run makes', () => {
    const run = bench(['--smoke', '--device', 'webgpu', '--precisions', 'fp32', '--no-reference', '--steps', '20', '--batches', '1', '--profile']);
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ device: 'webgpu', smoke: expect.stringContaining('webgpu') });
    const rows = report.results as Array<{ device: string; steps_per_run: number; unrolled: boolean; cache_on_device: boolean; cache_uploads: number; host_cache_bytes_per_step: number; profile: { copies_to_host_per_run: number } }>;
    expect(rows.map((r) => [r.device, r.steps_per_run, r.unrolled, r.cache_on_device])).toEqual([['webgpu', 1, false, true], ['webgpu', UNROLLED_STEPS, true, true]]);
    // One line: its cache goes to the device once, when it joins the (empty) batch.
    for (const r of rows) expect(r.cache_uploads).toBe(1);
    // Loaded with the warm-up line a GPU model runs at load, so the rows measure warm runs.
    for (const r of report.results as Array<{ cold: boolean; load_ms: number }>) expect([r.cold, r.load_ms > 0]).toEqual([false, true]);
    // Both graphs: every node that follows GPU work runs on WebGPU (the unrolled graph's sampler and
    // row rules in float32 and int32: sampler-graph.ts), so a run never waits for the device until
    // its outputs are fetched at the end. It used to make 92 copies to the host per run of 8 rows.
    for (const r of rows) expect(r.profile.copies_to_host_per_run).toBe(0);
    console.log(`WebGPU copies to the host per run: ${rows.map((r) => `${r.profile.copies_to_host_per_run} at ${r.steps_per_run} rows per run`).join(', ')}`);
    // fp16 on a device without fp16 shaders: a clear refusal, not a silent CPU row.
    const half = bench(['--smoke', '--device', 'webgpu', '--precisions', 'fp16', '--no-reference', '--steps', '20']);
    expect(half.status).toBe(2);
    expect(half.stderr).toContain('--precisions fp32');
  });

  it.runIf(lavapipe)('runs the fp16 graphs on WebGPU where the device has fp16 shaders (lavapipe)', () => {
    const run = bench(['--smoke', '--device', 'webgpu', '--precisions', 'fp16', '--no-reference', '--steps', '20', '--batches', '1', '--profile'], { VK_ICD_FILENAMES: LAVAPIPE_ICD });
    expect(run.status, run.stderr).toBe(0);
    const rows = JSON.parse(run.stdout).results as Array<{ precision: string; device: string; steps_per_run: number; cache_on_device: boolean; cache_uploads: number; steps: number; profile: { copies_to_host_per_run: number } }>;
    expect(rows.map((r) => [r.precision, r.device, r.steps_per_run, r.cache_on_device, r.cache_uploads])).toEqual([['fp16', 'webgpu', 1, true, 1], ['fp16', 'webgpu', UNROLLED_STEPS, true, 1]]);
    for (const r of rows) expect([r.steps > 0, r.profile.copies_to_host_per_run]).toEqual([true, 0]);
  });

  it('measures the unrolled graph (for providers without a Loop kernel) with --unrolled', () => {
    const run = bench(['--smoke', '--no-reference', '--unrolled', '--steps', '20', '--batches', '1', '--precisions', 'fp16']);
    expect(run.status, run.stderr).toBe(0);
    const rows = JSON.parse(run.stdout).results as Array<{ steps_per_run: number; unrolled: boolean; rows_per_run_mean: number }>;
    expect(rows.map((r) => [r.steps_per_run, r.unrolled])).toEqual([[1, false], [UNROLLED_STEPS, true]]);
    expect(rows[1].rows_per_run_mean).toBe(UNROLLED_STEPS);
  });
});
