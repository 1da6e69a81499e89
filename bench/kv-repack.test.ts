// bench:kv must keep running: a small batch and few positions, the same code paths as the default.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const BENCH = join(import.meta.dirname, 'kv-repack.ts');

describe('bench:kv', () => {
  it('times every re-pack both ways and prints the report', () => {
    const run = spawnSync(process.execPath, [BENCH, '--lines', '3', '--positions', '40', '--runs', '2'], { encoding: 'utf8', timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ bench: 'kv-repack', lines: 3, positions: 40, runs: 2 });
    const keys = ['fresh_buffer_leave_ms', 'fresh_buffer_join_ms', 'head_major_growth_ms', 'in_place_leave_and_join_ms', 'in_place_leave_ms', 'in_place_append_ms', 'cross_fresh_join_ms', 'cross_kept_join_ms'];
    expect(Object.keys(report.median_ms).sort()).toEqual([...keys].sort());
    for (const k of keys) {
      expect(report.all_ms[k]).toHaveLength(2);
      expect(report.median_ms[k]).toBeGreaterThanOrEqual(0);
    }
  });

  it('rejects bad arguments', () => {
    const run = spawnSync(process.execPath, [BENCH, '--lines', '1'], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('--lines >= 2');
  });
});
