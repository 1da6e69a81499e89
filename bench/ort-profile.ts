// Reads an ONNX Runtime profile (Chrome trace JSON, written with enableProfiling) and splits the
// decoder runs' time: kernels by operator type, explicit device copies (Memcpy nodes), and the
// rest of each run outside any kernel (copying feeds and fetches across devices, allocation,
// launch gaps). That last share is what several steps per run is meant to shrink on a GPU.
import { readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

interface TraceEvent {
  cat?: string;
  name?: string;
  ts?: number;
  dur?: number;
  args?: { op_name?: string; provider?: string };
}

export interface ProfileSplit {
  runs: number;
  run_ms: number;
  /** Kernel time of every node, Loop bodies included (the Loop node itself excluded). */
  kernel_ms: number;
  /** Kernel launches per decoder run (Loop bodies included): what a GPU pays launch latency for. */
  kernels_per_run: number;
  /** Explicit device copies (Memcpy nodes) among those kernels. */
  copy_node_ms: number;
  /**
   * Memcpy nodes per decoder run, each way: where nodes of one run land on different providers
   * (ops a GPU provider has no kernel for fall back to the CPU). On a GPU each copy to the host
   * waits for the device to finish the work queued before it.
   */
  copies_to_host_per_run: number;
  copies_to_device_per_run: number;
  /** Inside Loop nodes but outside their body kernels: the loop's own per-iteration cost. */
  loop_overhead_ms: number;
  /** Run time outside any top-level kernel: feeds/fetches copied across devices, allocation, gaps. */
  outside_kernels_ms: number;
  outside_kernels_pct: number;
  /** The operator types that took the most kernel time. */
  top_ops: Array<{ op: string; provider: string; ms: number; pct_of_runs: number }>;
}

const ms = (us: number): number => +(us / 1000).toFixed(3);
const pct = (part: number, whole: number): number => (whole > 0 ? +((100 * part) / whole).toFixed(2) : 0);

/**
 * `skipRuns`: leave out the session's first runs (the warm-up line a GPU model runs at load,
 * runtime/warm-up.ts) and every event before the first run kept.
 */
export function splitProfile(all: TraceEvent[], skipRuns = 0): ProfileSplit {
  const runStarts = all.filter((e) => e.cat === 'Session' && e.name === 'model_run').map((e) => e.ts ?? 0).sort((a, b) => a - b);
  const from = skipRuns > 0 ? (runStarts[skipRuns] ?? Number.POSITIVE_INFINITY) : Number.NEGATIVE_INFINITY;
  const events = all.filter((e) => (e.ts ?? 0) >= from);
  const kernels = events.filter((e) => e.cat === 'Node' && e.name?.endsWith('_kernel_time'));
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
  const loops = kernels.filter((e) => e.args?.op_name === 'Loop');
  // A Loop's body kernels run inside the Loop node's own time span.
  const inLoop = (e: TraceEvent): boolean => loops.some((l) => l !== e && (e.ts ?? 0) >= (l.ts ?? 0) && (e.ts ?? 0) + (e.dur ?? 0) <= (l.ts ?? 0) + (l.dur ?? 0));
  let runUs = 0;
  for (const r of runs) runUs += r.dur ?? 0;
  let topUs = 0;
  let bodyUs = 0;
  let kernelUs = 0;
  let copyUs = 0;
  let toHost = 0;
  let toDevice = 0;
  let launches = 0;
  const byOp = new Map<string, { provider: string; us: number }>();
  for (const e of kernels) {
    const us = e.dur ?? 0;
    const op = e.args?.op_name ?? '?';
    const nested = inLoop(e);
    if (!nested) topUs += us;
    if (op === 'Loop') continue;
    if (nested) bodyUs += us;
    kernelUs += us;
    launches++;
    if (op.startsWith('Memcpy')) copyUs += us;
    if (op === 'MemcpyToHost') toHost++;
    if (op === 'MemcpyFromHost') toDevice++;
    const entry = byOp.get(op) ?? { provider: e.args?.provider ?? '?', us: 0 };
    entry.us += us;
    byOp.set(op, entry);
  }
  let loopUs = 0;
  for (const l of loops) loopUs += l.dur ?? 0;
  const outside = Math.max(0, runUs - topUs);
  const top = [...byOp.entries()].sort((a, b) => b[1].us - a[1].us).slice(0, 12);
  return {
    runs: runs.length,
    run_ms: ms(runUs),
    kernel_ms: ms(kernelUs),
    kernels_per_run: runs.length ? Math.round(launches / runs.length) : 0,
    copy_node_ms: ms(copyUs),
    copies_to_host_per_run: runs.length ? +(toHost / runs.length).toFixed(1) : 0,
    copies_to_device_per_run: runs.length ? +(toDevice / runs.length).toFixed(1) : 0,
    loop_overhead_ms: ms(Math.max(0, loopUs - bodyUs)),
    outside_kernels_ms: ms(outside),
    outside_kernels_pct: pct(outside, runUs),
    top_ops: top.map(([op, v]) => ({ op, provider: v.provider, ms: ms(v.us), pct_of_runs: pct(v.us, runUs) })),
  };
}

/** Finds the newest trace written under `prefix`, splits it, and deletes the trace files. */
export async function readProfile(prefix: string, skipRuns = 0): Promise<ProfileSplit | undefined> {
  const dir = dirname(prefix);
  const stem = basename(prefix);
  const files = (await readdir(dir)).filter((f) => f.startsWith(stem) && f.endsWith('.json')).sort();
  if (!files.length) return undefined;
  const events = JSON.parse(await readFile(join(dir, files[files.length - 1]), 'utf8')) as TraceEvent[];
  await Promise.all(files.map((f) => rm(join(dir, f), { force: true })));
  return splitProfile(events, skipRuns);
}
