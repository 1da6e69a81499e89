// Dynamic batching scheduler. Lines join the running batch between decoder runs (after their
// own encoder run and prefill) and leave when they finish, fail or are cancelled; every run
// decodes all active lines (two guidance rows each): one step with the JS sampler, or several
// steps with in-graph sampling when the model runs that way (DiaRunner.stepsPerRun). Re-packing
// the KV cache and the cross K/V happens only on membership changes, never per step.
import { AppError } from '../../../src-shared/errors.ts';
import type { RenderJob, RenderMetricsData, RenderOutcome } from '../host/protocol.ts';
import { KvCache } from './kv-cache.ts';
import { CrossBatchStore, TEXT_BLOCK, crossShapeOf, type CrossBatch } from './cross-batch.ts';
import type { DacRunner, DecodeTiming, DiaRunner } from './model-api.ts';
import { ActiveLine, type LineEvents } from './active-line.ts';
import { longestRun, rowsPerRun } from './run-length.ts';

export interface SchedulerOptions {
  /** Most lines decoded together. */
  maxBatch: number;
  /** Cache bytes a step of a multi-step run may carry (run-length.ts; default CACHE_BYTES_PER_STEP). */
  cacheBytesPerStep?: number;
}

/** RenderOutcome.cut is false when cancelled (line-logic.ts). */
export interface LineResult extends RenderOutcome {
  metrics: RenderMetricsData;
}

interface Queued {
  job: RenderJob;
  events: LineEvents;
  submittedAt: number;
  resolve(r: LineResult): void;
  reject(e: unknown): void;
}

export class GenerationScheduler {
  private readonly dia: DiaRunner;
  private readonly dac: DacRunner;
  private readonly opts: SchedulerOptions;
  private readonly queue: Queued[] = [];
  private active: ActiveLine[] = [];
  private cache: KvCache | undefined;
  private cross: CrossBatch | undefined;
  /** The batch's cross inputs, kept while the loop runs so re-packs write only the lines that moved. */
  private crossStore: CrossBatchStore | undefined;
  private running = false;
  /** Lines left the batch since it was last packed (retire), so admit must re-pack it. */
  private repackDue = false;
  private readonly cancelled = new Set<string>();
  /** Lines taken from the queue that have not joined the batch yet (starting: encoder and first run). */
  private readonly admitting = new Set<string>();
  private readonly failed = new Map<string, unknown>();
  /** Cumulative decoder runs, rows sampled and timing of the batch, for the engine-overhead benchmark. */
  /** lineMs: the per-line work after each run (sampling where the host samples, EOS, rows), codec excluded. */
  readonly stats = { runs: 0, steps: 0, stepMs: 0, runMs: 0, codecMs: 0, lineMs: 0, inputBytes: 0, cacheBytes: 0, outputBytes: 0, cacheUploads: 0, cacheRepacks: 0 };

  constructor(dia: DiaRunner, dac: DacRunner, opts: SchedulerOptions) {
    this.dia = dia;
    this.dac = dac;
    this.opts = opts;
  }

  submit(job: RenderJob, events: LineEvents): Promise<LineResult> {
    return new Promise<LineResult>((resolve, reject) => {
      this.queue.push({ job, events, submittedAt: performance.now(), resolve, reject });
      if (!this.running) void this.loop();
    });
  }

  /** Cancels a queued or running line; a running one stops before its next decoder run. */
  cancel(jobId: string): void {
    const i = this.queue.findIndex((q) => q.job.jobId === jobId);
    if (i >= 0) {
      const [q] = this.queue.splice(i, 1);
      q.reject(new AppError('cancelled', 'Render cancelled'));
      return;
    }
    if (this.admitting.has(jobId) || this.active.some((a) => a.job.jobId === jobId)) this.cancelled.add(jobId);
  }

  get activeCount(): number {
    return this.active.length;
  }

  /** Lines are queued, starting or decoding: the batch's sessions are in use until this turns false. */
  get busy(): boolean {
    return this.running;
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length || this.active.length) {
        try {
          await this.admit();
          if (this.active.length) await this.step();
          await this.retire();
        } catch (err) {
          // A decoder run failed (device lost, out of memory, a kernel error): the lines in it fail,
          // the queue goes on in a fresh batch.
          this.failBatch(this.active, err);
        }
      }
    } finally {
      this.running = false;
      this.dropBatch();
      this.dia.idle?.();
    }
  }

  /** Encodes and prefills waiting lines, then merges them into the batch. */
  private async admit(): Promise<void> {
    const joined: ActiveLine[] = [];
    try {
      while (this.queue.length && this.active.length + joined.length < this.opts.maxBatch) {
        const q = this.queue.shift()!;
        this.admitting.add(q.job.jobId);
        try {
          const line = new ActiveLine(q.job, this.dia.info, this.dac, q.events, q.submittedAt, q.resolve, q.reject);
          await line.start(this.dia);
          joined.push(line);
        } catch (err) {
          this.admitting.delete(q.job.jobId);
          this.cancelled.delete(q.job.jobId);
          q.reject(err);
        }
        // Stop admitting once a step is due, so running lines are not starved by a long queue.
        if (this.active.length) break;
      }
      // A line cancelled while it started (its first run can be dozens of rows) ends before it joins.
      const joining: ActiveLine[] = [];
      for (const line of joined) {
        if (this.cancelled.delete(line.job.jobId)) {
          this.admitting.delete(line.job.jobId);
          line.finishCancelled();
        } else joining.push(line);
      }
      if (joining.length || this.repackDue) {
        try {
          // The re-pack moves the host's rows: they must hold what the device computed.
          await this.dia.syncHost?.([this.cache, ...joining.map((line) => line.ownCache)].filter((c): c is KvCache => c !== undefined));
          this.repack([...this.active, ...joining]);
        } catch (err) {
          this.failBatch([...this.active, ...joining], err);
        }
      }
      this.repackDue = false;
    } finally {
      // Joiners stay 'admitting' until the re-pack puts them in the batch, so a cancel that arrives
      // during the device sync finds them.
      this.admitting.clear();
    }
  }

  /**
   * Ends `lines` (the batch, and any joiners) after a failed decoder run or device sync: the batch
   * cache's rows no longer match what the lines sampled, so the next lines start a fresh batch.
   * Lines cancelled meanwhile end as cancelled.
   */
  private failBatch(lines: ActiveLine[], err: unknown): void {
    const error = err instanceof AppError ? err : new AppError('engine-failed', `The decoder run failed: ${(err as Error | undefined)?.message ?? String(err)}`, { cause: err });
    for (const line of lines) {
      const id = line.job.jobId;
      this.failed.delete(id);
      if (this.cancelled.delete(id)) line.finishCancelled();
      else line.fail(error);
    }
    this.active = [];
    this.repackDue = false;
    this.dropBatch();
    // Device copies of the dropped cache are of no use to the next batch.
    this.dia.idle?.();
  }

  private dropBatch(): void {
    this.cache = undefined;
    this.cross = undefined;
    this.crossStore = undefined;
  }

  /**
   * The batch becomes `lines`: those still in it (in batch order, at their old batch rows) and the
   * joiners, whose prefilled rows come from their own caches. Joiners take the rows of lines that
   * left, so the lines that stay do not move, then go at the end; rows left empty close up. The
   * batch cache is re-arranged in place and kept while the loop runs, so its pages stay warm.
   */
  private repack(lines: ActiveLine[]): void {
    const info = this.dia.info;
    const cache = (this.cache ??= new KvCache(this.dia.cacheShape, 0, this.reservedPositions(), this.reservedRows()));
    const slots: Array<ActiveLine | undefined> = new Array<ActiveLine | undefined>(cache.rows / 2);
    const staying = lines.filter((line) => !line.ownCache);
    for (const line of staying) slots[line.batchRow / 2] = line;
    const joiners = lines.filter((line) => line.ownCache);
    for (let i = 0; i < slots.length && joiners.length; i++) slots[i] ??= joiners.shift();
    const order = [...slots, ...joiners].filter((line): line is ActiveLine => line !== undefined);
    cache.rearrange(order.flatMap((line) => (line.ownCache ? [undefined, undefined] : [line.batchRow, line.batchRow + 1])), Math.max(0, ...staying.map((line) => line.position)));
    cache.ensureCapacity(Math.max(1, ...order.map((line) => line.position + 1)));
    order.forEach((line, i) => {
      if (line.ownCache) cache.copyRowsFrom(line.ownCache, 0, 2 * i, line.position, 2);
      line.batchRow = i * 2;
      line.ownCache = undefined;
    });
    this.crossStore ??= new CrossBatchStore(crossShapeOf(info), { rows: 2 * this.opts.maxBatch, textBlock: TEXT_BLOCK });
    this.cross = order.length ? this.crossStore.update(order.map((l) => l.cross)) : undefined;
    this.active = order;
  }

  /**
   * Positions the batch cache reserves when it is made. The time-major cache (sbnh) reserves the
   * model's whole window: it is sent only the positions in use, so the reserve costs neither bus
   * bytes nor memory until written, and the cache never grows (a growth allocates and copies the
   * whole cache: ~0.5 s for a batch of 8 past 2 048 positions in fp16 here, `npm run bench:kv`). Spare
   * positions: the longest run, since a run feeds a line one row from its end as many rows as the
   * line with the most left takes (stretched up to longestRun, run-length.ts). The
   * head-major cache is read whole by every step, so it grows with the lines instead.
   */
  private reservedPositions(): number {
    if (this.dia.cacheShape.layout !== 'sbnh') return 1;
    const { stepsPerRun, stepsFixed } = this.dia;
    return this.dia.info.maxTokens + (stepsFixed ? stepsPerRun : Math.max(2, longestRun(stepsPerRun)));
  }

  /**
   * Rows each layer's block has room for. The time-major cache takes a full batch, so joins never
   * re-allocate (virtual memory: 1.8 GB at batch 8 in fp16, touched only as used; Windows commits
   * it). The head-major cache, the CPU's, grows with the lines and is sized to them.
   */
  private reservedRows(): number {
    return this.dia.cacheShape.layout === 'sbnh' ? 2 * this.opts.maxBatch : 0;
  }

  private async step(): Promise<void> {
    const started = performance.now();
    const info = this.dia.info;
    const rows = this.active.length * 2;
    const tokens = new Int32Array(rows * info.channels);
    const positions = new Int32Array(rows);
    for (const line of this.active) {
      const row = line.lastRow();
      for (let b = 0; b < 2; b++) {
        tokens.set(row, (line.batchRow + b) * info.channels);
        positions[line.batchRow + b] = line.position;
      }
    }
    const timing: DecodeTiming = { runMs: 0 };
    const live = this.active.filter((line) => !this.cancelled.has(line.job.jobId));
    if (this.dia.stepsPerRun > 1) {
      // Longer runs as the cache grows (run-length.ts), but as many steps as the longest-running line
      // can still use, so a run never outlives the batch.
      const perRun = rowsPerRun({
        base: this.dia.stepsPerRun,
        cacheBytes: this.cache!.inputBytes(Math.max(...positions)),
        lineWaiting: this.queue.length > 0 && this.active.length < this.opts.maxBatch,
        bytesPerStep: this.opts.cacheBytesPerStep,
      });
      const steps = Math.max(...this.active.map((line) => line.stepsFor(this.dia, perRun)));
      const inputs = this.active.map((line) => line.stepsInput(steps));
      const result = await this.dia.decodeSteps(tokens, 1, positions, steps, inputs, this.cache!, this.cross!, timing);
      await this.forEachLine(live, (line) => line.acceptRows(result, line.batchRow / 2, this.active.length, timing.runMs));
      this.stats.steps += result.stepsRun;
    } else {
      const logits = await this.dia.decode(tokens, 1, positions, this.cache!, this.cross!, timing);
      await this.forEachLine(live, (line) => line.consume(logits, line.batchRow, timing.runMs));
      this.stats.steps++;
    }
    this.stats.runs++;
    this.stats.stepMs += performance.now() - started;
    this.stats.runMs += timing.runMs;
    this.stats.inputBytes += timing.inputBytes ?? 0;
    this.stats.outputBytes += timing.outputBytes ?? 0;
    this.stats.cacheBytes += timing.cacheBytes ?? 0;
    this.stats.cacheUploads += timing.cacheUploads ?? 0;
    this.stats.cacheRepacks += timing.cacheRepacks ?? 0;
  }

  /** Runs `work` (returning codec ms) for each line; a line that throws fails alone. */
  private async forEachLine(lines: ActiveLine[], work: (line: ActiveLine) => Promise<number>): Promise<void> {
    const started = performance.now();
    let codecMs = 0;
    for (const line of lines) {
      try {
        codecMs += await work(line);
      } catch (err) {
        this.failed.set(line.job.jobId, err);
      }
    }
    this.stats.codecMs += codecMs;
    this.stats.lineMs += performance.now() - started - codecMs;
  }

  /** Removes lines that are done or cancelled from the batch, then delivers their results. */
  private async retire(): Promise<void> {
    const keep: ActiveLine[] = [];
    const leaving: ActiveLine[] = [];
    const id = (line: ActiveLine): string => line.job.jobId;
    for (const line of this.active) (this.cancelled.has(id(line)) || this.failed.has(id(line)) || line.done ? leaving : keep).push(line);
    if (!leaving.length) return;
    // The batch is re-packed by the next admit, which runs before any step, so a queued line can
    // take the rows of one that left.
    this.active = keep;
    this.repackDue = true;
    for (const line of leaving) {
      const failure = this.failed.get(id(line));
      // A line cancelled in the step where it failed ends as cancelled, its failure dropped too.
      const failed = this.failed.delete(id(line));
      if (this.cancelled.delete(id(line))) line.finishCancelled();
      else if (failed) line.fail(failure);
      else await line.finish();
    }
  }
}
