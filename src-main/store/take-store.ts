// The take cache: rendered audio keyed by everything that shaped it, several takes per line, a
// chosen take per voicing of a line (its words and speaker), LRU eviction under a size limit of all
// but each line's latest chosen take. It lives in its own file (takes.sqlite), apart from the
// projects, because it is regenerable: a damaged cache is moved aside and replaced by a fresh one
// without ever touching a script.
import { join } from 'node:path';
import { AppError } from '../../src-shared/errors.ts';
import { decodeFlac, encodeFlac, loadFlac } from './flac.ts';
import { checkAudio, floatToPcm24, pcm24ToFloat, pcmSha256 } from './pcm.ts';
import { fileBytes, writeTransaction } from './sqlite-db.ts';
import { TakeAudioStream } from './take-audio-stream.ts';
import { TakeConnection } from './take-connection.ts';
import { assertTakeKey, canonicalJson, normalizeTakeKeyInput, takeKey } from './take-key.ts';
import { toLineTake, toRecord, type TakeStatements } from './take-queries.ts';
import { TAKE_CACHE_FILE } from './take-schema.ts';
import type { ClearOptions, ClearResult, EvictionResult, LineRef, LineTake, NewTake, StoreRecovery, TakeKeyInput, TakeRecord, TakeStoreStats } from './types.ts';
import { IdSchema, LineRefSchema, parseInput, TakeKeyInputSchema, TakeMetricsInputSchema } from './validate.ts';

export const DEFAULT_MAX_CACHE_BYTES = 2 * 1024 ** 3;
/** FLAC is stored in pieces of this size; the first piece holds ~1 s of speech. */
export const AUDIO_CHUNK_BYTES = 128 * 1024;

export interface TakeStoreOptions {
  /** Soft limit on stored audio; least-recently-used unchosen takes are evicted beyond it. */
  maxBytes?: number;
  /** Hard ceiling on the database file (e.g. a small partition); past it writes fail with 'disk-full'. */
  maxFileBytes?: number;
}

/** Opens (creating if needed) the take cache in `dir`; loads the FLAC codec first. */
export async function openTakeStore(dir: string, opts: TakeStoreOptions = {}): Promise<TakeStore> {
  if (typeof dir !== 'string' || dir.length === 0) throw new AppError('invalid-input', 'Invalid take cache folder: expected a non-empty path');
  for (const [name, value] of Object.entries(opts)) if (value !== undefined) checkPositive(value, `take cache option ${name}`);
  await loadFlac();
  return new TakeStore(join(dir, TAKE_CACHE_FILE), opts);
}

export class TakeStore {
  readonly path: string;
  private limit: number;
  private readonly conn: TakeConnection;

  /** Use openTakeStore(): it loads the codec this class relies on. */
  constructor(path: string, opts: TakeStoreOptions) {
    this.path = path;
    this.limit = opts.maxBytes ?? DEFAULT_MAX_CACHE_BYTES;
    this.conn = new TakeConnection(path, opts.maxFileBytes);
  }

  /** Set when a damaged cache was moved aside (at open or later) and a fresh one started. */
  get recovery(): StoreRecovery | null {
    return this.conn.recovery;
  }

  /** The size limit on stored audio; setMaxBytes() changes it. */
  get maxBytes(): number {
    return this.limit;
  }

  takeKey(input: TakeKeyInput): string {
    return takeKey(input);
  }

  /** The take rendered from exactly these inputs, or null. A hit counts as a use (LRU). */
  findTake(key: string): TakeRecord | null {
    assertTakeKey(key);
    return this.conn.run('look up a take', ({ db, sql }) => {
      const row = sql.byKey.get(key);
      if (!row) return null;
      writeTransaction(db, () => sql.touch.run(Date.now(), row.id));
      return toRecord(sql.byId.get(row.id)!);
    });
  }

  /**
   * A cache hit for `line`: the take rendered from exactly these inputs, counted as a use (LRU) and
   * linked to the line (it may have been made for another line with the same speaker, words and
   * seed; the line then lists it and can choose it), both in one transaction. Null on a miss.
   */
  useTake(key: string, line: LineRef): TakeRecord | null {
    assertTakeKey(key);
    const ref = parseInput(LineRefSchema, line, 'line reference');
    return this.conn.run('use a cached take', ({ db, sql }) => {
      // A miss writes nothing: the lookup comes first, outside the write lock.
      const row = sql.byKey.get(key);
      if (!row) return null;
      return writeTransaction(db, () => {
        // Another window may have deleted it since the lookup: then it is a miss.
        if (sql.touch.run(Date.now(), row.id).changes === 0) return null;
        sql.link.run({ ...ref, takeId: row.id, now: Date.now() });
        return toRecord(sql.byId.get(row.id)!);
      });
    });
  }

  getTake(id: number): TakeRecord | null {
    checkTakeId(id);
    return this.conn.run('read a take', ({ sql }) => {
      const row = sql.byId.get(id);
      return row ? toRecord(row) : null;
    });
  }

  /**
   * Stores a rendered take and links it to its line. If a take with the same key exists, that one
   * is linked and returned instead (same inputs, same take). Room is made by evicting
   * least-recently-used unchosen takes in the same transaction, so a failure leaves nothing half-done.
   */
  putTake(take: NewTake): TakeRecord {
    if (typeof take !== 'object' || take === null) throw new AppError('invalid-input', 'Invalid take: expected an object');
    const input = normalizeTakeKeyInput(take.keyInput);
    const line = parseInput(LineRefSchema, take.line, 'line reference');
    const metrics = parseInput(TakeMetricsInputSchema, take.metrics, 'take metrics');
    checkAudio(take.audio, take.sampleRate, `audio of take for line ${line.lineId}`);
    const key = takeKey(input);
    const link = (sql: TakeStatements, takeId: number): void => void sql.link.run({ ...line, takeId, now: Date.now() });

    const hit = this.useTake(key, line);
    if (hit) return hit;
    const pcm = floatToPcm24(take.audio);
    const flac = encodeFlac(pcm, take.sampleRate);
    const chunkCount = Math.ceil(flac.length / AUDIO_CHUNK_BYTES);
    const { id, evicted } = this.conn.run('save a take', ({ db, sql }) =>
      writeTransaction(db, () => {
        // Another process may have stored the same key since the lookup above.
        const raced = sql.byKey.get(key);
        if (raced) {
          link(sql, raced.id);
          return { id: raced.id, evicted: 0 };
        }
        const { evictedTakes } = this.evictWithin(sql, flac.length);
        const takeId = Number(sql.insertTake.run({
          key, input: canonicalJson(input), seed: input.seed, now: Date.now(), sampleRate: take.sampleRate, sampleCount: pcm.length,
          flacBytes: flac.length, flacChunks: chunkCount, pcmSha: pcmSha256(pcm), ...metrics, cut: metrics.cut ? 1 : 0,
        }).lastInsertRowid);
        for (let seq = 0; seq < chunkCount; seq++) {
          sql.insertChunk.run(takeId, seq, flac.subarray(seq * AUDIO_CHUNK_BYTES, (seq + 1) * AUDIO_CHUNK_BYTES));
        }
        link(sql, takeId);
        return { id: takeId, evicted: evictedTakes };
      }),
    );
    if (evicted > 0) this.conn.reclaimSpace();
    return this.getTake(id)!;
  }

  /** Takes linked to this line id, oldest first. */
  listTakes(line: LineRef): LineTake[] {
    const ref = parseInput(LineRefSchema, line, 'line reference');
    return this.conn.run('list takes', ({ sql }) => sql.byLine.all(ref.projectId, ref.lineId).map(toLineTake));
  }

  /** listTakes of many lines of one project in one query: each line id's takes (none: absent). */
  listTakesOfLines(projectId: string, lineIds: readonly string[]): Map<string, LineTake[]> {
    const id = parseInput(IdSchema, projectId, 'project id');
    for (const lineId of lineIds) parseInput(IdSchema, lineId, 'line id');
    const byLine = new Map<string, LineTake[]>();
    const rows = this.conn.run('list takes', ({ sql }) => sql.byLines.all(id, JSON.stringify(lineIds)));
    for (const row of rows) {
      const list = byLine.get(row.line_id);
      if (list) list.push(toLineTake(row));
      else byLine.set(row.line_id, [toLineTake(row)]);
    }
    return byLine;
  }

  /** The lines a take is linked to, oldest link first (one take may serve several lines). */
  linesOfTake(id: number): LineRef[] {
    checkTakeId(id);
    return this.conn.run('list the lines of a take', ({ sql }) => sql.linesOfTake.all(id));
  }

  /** The lines whose choice for the words the take is linked with is this take, oldest link first. */
  linesChoosing(id: number): LineRef[] {
    checkTakeId(id);
    return this.conn.run('list the lines that chose a take', ({ sql }) => sql.linesChoosing.all(id));
  }

  /**
   * Forgets a deleted project's lines: its takes are no longer chosen or linked, so they age out of
   * the cache like any unused take (a take another project shares stays linked there). Returns
   * the number of links removed.
   */
  releaseProject(projectId: string): number {
    const id = parseInput(IdSchema, projectId, 'project id');
    return this.conn.run('release the takes of a project', ({ db, sql }) =>
      writeTransaction(db, () => {
        sql.unchooseProject.run(id);
        return sql.unlinkProject.run(id).changes;
      }),
    );
  }

  /**
   * Makes `takeId` the line's chosen take for the words and speaker it was rendered from (linking it
   * with the line's words if it was not linked yet). The line's choices for other words or another
   * speaker stay: a line edited back to them finds their chosen take in use again. The line's latest
   * choice (this one, even if it was chosen before) alone keeps its take from eviction and clear().
   */
  chooseTake(line: LineRef, takeId: number): void {
    if (this.chooseTakes([{ line, takeId }]).length > 0) throw new AppError('not-found', `Take ${takeId} is not in the take cache (${this.path})`);
  }

  /** chooseTake for many lines in one transaction; returns the choices not made: their take is gone. */
  chooseTakes(choices: readonly { line: LineRef; takeId: number }[]): { line: LineRef; takeId: number }[] {
    const refs = choices.map(({ line, takeId }) => {
      const ref = parseInput(LineRefSchema, line, 'line reference');
      checkTakeId(takeId);
      return { line: ref, takeId };
    });
    return this.conn.run('choose a take', ({ db, sql }) =>
      writeTransaction(db, () => {
        const now = Date.now();
        return refs.filter(({ line, takeId }) => {
          if (!sql.byId.get(takeId)) return true;
          // An existing link keeps the wording the take was rendered from: choosing a take of an
          // earlier wording does not make it say the line's current words.
          sql.linkIfMissing.run({ ...line, takeId, now });
          sql.choose.run({ projectId: line.projectId, lineId: line.lineId, takeId, now });
          return false;
        });
      }),
    );
  }

  /** Forgets the line's choice for its words `line.text` spoken by `speaker`; other choices stay. */
  clearChoice(line: LineRef, speaker: string): void {
    const ref = parseInput(LineRefSchema, line, 'line reference');
    const who = parseInput(TakeKeyInputSchema.entries.speaker, speaker, 'speaker');
    this.conn.run('clear a chosen take', ({ db, sql }) => writeTransaction(db, () => void sql.unchoose.run(ref.projectId, ref.lineId, ref.text, who)));
  }

  /** The take chosen for the line's words `line.text` spoken by `speaker`, or null. */
  chosenTake(line: LineRef, speaker: string): TakeRecord | null {
    const ref = parseInput(LineRefSchema, line, 'line reference');
    const who = parseInput(TakeKeyInputSchema.entries.speaker, speaker, 'speaker');
    return this.conn.run('read the chosen take', ({ sql }) => {
      const row = sql.chosen.get(ref.projectId, ref.lineId, ref.text, who);
      return row ? toRecord(row) : null;
    });
  }

  /** Deletes a take, chosen or not (an explicit user action). Returns false if it was not there. */
  deleteTake(id: number): boolean {
    checkTakeId(id);
    const deleted = this.conn.run('delete a take', ({ db, sql }) => writeTransaction(db, () => sql.deleteTake.run(id).changes > 0));
    if (deleted) this.conn.reclaimSpace();
    return deleted;
  }

  /** Marks a take as just used (played, exported), moving it to the back of the eviction queue. */
  touch(id: number): void {
    checkTakeId(id);
    const found = this.conn.run('update a take', ({ db, sql }) => writeTransaction(db, () => sql.touch.run(Date.now(), id).changes > 0));
    if (!found) throw new AppError('not-found', `Take ${id} is not in the take cache (${this.path})`);
  }

  /** The complete FLAC stream of a take, as stored. */
  readFlac(id: number): Uint8Array {
    checkTakeId(id);
    return this.conn.run('read take audio', ({ sql }) => {
      const row = sql.byId.get(id);
      if (!row) throw new AppError('not-found', `Take ${id} is not in the take cache (${this.path})`);
      const pieces = sql.allChunks.all(id);
      const flac = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of pieces) {
        flac.set(p, at);
        at += p.length;
      }
      if (pieces.length !== row.flac_chunks || flac.length !== row.flac_bytes) {
        const found = `${pieces.length} of ${row.flac_chunks} audio pieces, ${flac.length} of ${row.flac_bytes} bytes`;
        throw this.damagedTake(id, new AppError('store-corrupt', `take ${id}: ${found}`));
      }
      return flac;
    });
  }

  /** Decodes a whole take, verified against its FLAC MD5 and the stored sample checksum. */
  readAudio(id: number): Float32Array {
    return pcm24ToFloat(this.readVerified(id).pcm);
  }

  /**
   * The FLAC stream of a take once it has been decoded and checked like readAudio: for copies that
   * must not carry damaged audio on (a .diaproj). A damaged take is removed (store-corrupt).
   */
  readVerifiedFlac(id: number): Uint8Array {
    return this.readVerified(id).flac;
  }

  /**
   * Starts incremental decoding for playback; counts as a use (LRU) unless `countUse` is false (the
   * caller just counted it, as useTake does). Close the stream when done.
   */
  openAudioStream(id: number, { countUse = true }: { countUse?: boolean } = {}): TakeAudioStream {
    checkTakeId(id);
    const row = this.conn.run('open take audio', ({ db, sql }) => {
      const found = sql.byId.get(id);
      if (found && countUse) writeTransaction(db, () => sql.touch.run(Date.now(), id));
      return found;
    });
    if (!row) throw new AppError('not-found', `Take ${id} is not in the take cache (${this.path})`);
    return new TakeAudioStream({
      takeId: id,
      sampleRate: row.sample_rate,
      sampleCount: row.sample_count,
      chunkCount: row.flac_chunks,
      readChunk: (seq) => this.conn.run('read take audio', ({ sql }) => sql.chunk.get(id, seq)),
      onDamaged: (err) => this.damagedTake(id, err),
    });
  }

  /** Evicts least-recently-used unchosen takes until the audio fits in maxBytes. */
  evictToLimit(): EvictionResult {
    const result = this.conn.run('evict old takes', ({ db, sql }) => writeTransaction(db, () => this.evictWithin(sql, 0)));
    if (result.evictedTakes > 0) this.conn.reclaimSpace();
    return result;
  }

  /** Deletes all but each line's latest chosen take; those too with includeChosen. Says how many went, and their audio. */
  clear(opts: ClearOptions = {}): ClearResult {
    const statement = opts.includeChosen === true ? 'clearAll' : 'clearUnchosen';
    const freed = this.conn.run('clear the cache', ({ db, sql }) => writeTransaction(db, () => sql[statement].all()));
    this.conn.reclaimSpace();
    return { removed: freed.length, freedBytes: freed.reduce((sum, bytes) => sum + bytes, 0) };
  }

  stats(): TakeStoreStats {
    return this.conn.run('read cache statistics', ({ sql }) => {
      const totals = sql.totals.get()!;
      const pinned = sql.pinned.get()!;
      return {
        path: this.path,
        takeCount: totals.count,
        chosenCount: pinned.count,
        audioBytes: totals.bytes,
        pinnedBytes: pinned.bytes,
        fileBytes: fileBytes(this.path),
        maxBytes: this.maxBytes,
        recovery: this.conn.recovery,
      };
    });
  }

  /** Changes the size limit (Settings); evictToLimit() applies it to the takes already stored. */
  setMaxBytes(bytes: number): void {
    checkPositive(bytes, 'take cache size limit');
    this.limit = bytes;
  }

  close(): void {
    this.conn.close();
  }

  private readVerified(id: number): { flac: Uint8Array; pcm: Int32Array } {
    const flac = this.readFlac(id);
    const row = this.conn.run('read a take', ({ sql }) => sql.byId.get(id));
    if (!row) throw new AppError('not-found', `Take ${id} is not in the take cache (${this.path})`);
    try {
      const { pcm } = decodeFlac(flac, `take ${id}`);
      if (pcmSha256(pcm) !== row.pcm_sha256) throw new AppError('store-corrupt', `take ${id}: decoded samples do not match their checksum`);
      return { flac, pcm };
    } catch (err) {
      throw err instanceof AppError && err.code === 'store-corrupt' ? this.damagedTake(id, err) : err;
    }
  }

  private evictWithin(sql: TakeStatements, reserveBytes: number): EvictionResult {
    let total = sql.totals.get()!.bytes;
    const result: EvictionResult = { evictedTakes: 0, freedBytes: 0 };
    while (total + reserveBytes > this.limit) {
      const victims = sql.evictable.all(32);
      if (victims.length === 0) break; // only chosen takes left: they are never evicted
      for (const v of victims) {
        if (total + reserveBytes <= this.limit) break;
        sql.deleteTake.run(v.id);
        total -= v.flac_bytes;
        result.evictedTakes++;
        result.freedBytes += v.flac_bytes;
      }
    }
    return result;
  }

  /** A take whose audio fails verification is useless: drop it so it gets rendered again. */
  private damagedTake(id: number, err: AppError): AppError {
    try {
      this.conn.run('remove a damaged take', ({ db, sql }) => writeTransaction(db, () => sql.deleteTake.run(id)));
    } catch {
      // The report below matters more than the cleanup.
    }
    const message = `${err.message}. The take was removed from the cache at ${this.path}; render the line again.`;
    return new AppError('store-corrupt', message, { cause: err });
  }
}

function checkPositive(value: unknown, what: string): asserts value is number {
  if (!Number.isSafeInteger(value) || (value as number) <= 0) {
    throw new AppError('invalid-input', `Invalid ${what}: ${String(value)} is not a positive integer`);
  }
}

function checkTakeId(id: unknown): asserts id is number {
  checkPositive(id, 'take id');
}
