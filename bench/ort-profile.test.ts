// The profile split must attribute Loop bodies correctly: their kernels count as kernels (and
// launches), the Loop node's remaining time as loop overhead, and only time outside top-level
// kernels as "outside".
import { describe, expect, it } from 'vitest';
import { splitProfile } from './ort-profile.ts';

const kernel = (op: string, ts: number, dur: number) => ({ cat: 'Node', name: `n_${op}_${ts}_kernel_time`, ts, dur, args: { op_name: op, provider: 'CPUExecutionProvider' } });
const run = (ts: number, dur: number) => ({ cat: 'Session', name: 'model_run', ts, dur });

describe('splitProfile', () => {
  it('leaves out the first runs when asked (a warm-up), and every event before the first run kept', () => {
    const events = [run(0, 900), kernel('MatMul', 10, 800), run(1000, 100), kernel('MatMul', 1010, 50), run(2000, 100), kernel('Add', 2010, 20)];
    const split = splitProfile(events, 1);
    expect([split.runs, split.run_ms, split.kernel_ms, split.kernels_per_run]).toEqual([2, 0.2, 0.07, 1]);
    expect(splitProfile(events, 3)).toMatchObject({ runs: 0, kernel_ms: 0 });
  });

  it('separates top-level kernels, loop bodies, loop overhead and time outside kernels', () => {
    const events = [
      run(0, 1000),
      kernel('MatMul', 10, 100), // top level
      kernel('Loop', 200, 600), // contains the next three
      kernel('MatMul', 250, 200),
      kernel('TopK', 460, 100),
      kernel('MemcpyToHost', 600, 50),
      kernel('Add', 900, 50), // top level, after the loop
      { cat: 'Node', name: 'n_x_fence_before', ts: 5, dur: 1 }, // not a kernel
    ];
    const split = splitProfile(events);
    expect(split.runs).toBe(1);
    expect(split.run_ms).toBe(1);
    expect(split.kernel_ms).toBe(0.5); // 100 + 200 + 100 + 50 + 50 µs, the Loop node itself excluded
    expect(split.kernels_per_run).toBe(5);
    expect(split.copy_node_ms).toBe(0.05);
    expect([split.copies_to_host_per_run, split.copies_to_device_per_run]).toEqual([1, 0]);
    expect(split.loop_overhead_ms).toBe(0.25); // 600 - (200 + 100 + 50)
    expect(split.outside_kernels_ms).toBe(0.25); // 1000 - (100 + 600 + 50)
    expect(split.outside_kernels_pct).toBe(25);
    expect(split.top_ops[0]).toEqual({ op: 'MatMul', provider: 'CPUExecutionProvider', ms: 0.3, pct_of_runs: 30 });
  });

  it('reports zeros for a trace without runs', () => {
    expect(splitProfile([])).toMatchObject({ runs: 0, run_ms: 0, kernels_per_run: 0, outside_kernels_pct: 0, top_ops: [] });
  });
});
