// bench:gpu must work when a GPU is finally lent: its --smoke mode runs the whole pipeline (model
// build, steps-per-run rows, profile split, floor, targets) on the CPU at the tiny shapes.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { UNROLLED_STEPS } from '../src-main/engine/dia/graph-io.ts';

const BENCH = join(import.meta.dirname, 'gpu.ts');

function bench(args: string[]) {
  return spawnSync(process.execPath, [BENCH, ...args], { encoding: 'utf8', timeout: 120_000 });
}

describe('bench:gpu', () => {
  it('runs its pipeline end to end in a smoke run and prints the report', () => {
    const run = bench(['--smoke', '--no-reference', '--steps', '20', '--batches', '1,2', '--precisions', 'fp16', '--steps-per-run', '1,4', '--fixed-runs', '--profile']);
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ bench: 'gpu', device: 'cpu', targets_use_steps_per_run: 4, reference: { error: 'skipped (--no-reference)' } });
    expect(report.smoke).toContain('measures nothing');
    expect(report.results).toHaveLength(4);
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
  });

  it('measures the unrolled graph (for providers without a Loop kernel) with --unrolled', () => {
    const run = bench(['--smoke', '--no-reference', '--unrolled', '--steps', '20', '--batches', '1', '--precisions', 'fp16']);
    expect(run.status, run.stderr).toBe(0);
    const rows = JSON.parse(run.stdout).results as Array<{ steps_per_run: number; unrolled: boolean; rows_per_run_mean: number }>;
    expect(rows.map((r) => [r.steps_per_run, r.unrolled])).toEqual([[1, false], [UNROLLED_STEPS, true]]);
    expect(rows[1].rows_per_run_mean).toBe(UNROLLED_STEPS);
  });
});
