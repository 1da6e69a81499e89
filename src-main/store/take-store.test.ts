import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src-shared/errors.ts';
import { errorOf } from '../../src-shared/testing/app-errors.ts';
import { concatFloat32 } from '../audio/samples.ts';
import { floatToPcm24, pcm24ToFloat } from './pcm.ts';
import { prepareTakeStatements } from './take-queries.ts';
import { openTakeStore, type TakeStore } from './take-store.ts';
import { removeTempDirs, sampleKeyInput, sampleLine, sampleTake, speechLikeAudio, tempDir } from './testing.ts';

afterAll(removeTempDirs);

const open: TakeStore[] = [];
async function store(dir = tempDir(), opts: Parameters<typeof openTakeStore>[1] = {}): Promise<TakeStore> {
  const s = await openTakeStore(dir, opts);
  open.push(s);
  return s;
}
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

function maxError(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('TakeStore', () => {
  it('stores takes per line with seed, parameters and metrics, and hits on identical inputs', async () => {
    const s = await store();
    const line = sampleLine();
    const first = s.putTake(sampleTake(1, 2, line));
    const second = s.putTake(sampleTake(2, 1.5, line));
    expect(first.id).not.toBe(second.id);
    expect(first.seed).toBe(1);
    expect(first.input).toEqual(sampleTake(1, 2, line).keyInput);
    expect(first.metrics.durationSeconds).toBeCloseTo(2, 6);
    expect(first.metrics.rtf).toBeCloseTo(4600 / 1000 / 2, 6); // generation time / audio duration
    expect(first.metrics.stepsPerSecond).toBeCloseTo(172 / 4.6, 6);
    expect(first.metrics.ttfaMs).toBe(420);
    expect(first.createdAt).toBeGreaterThan(Date.now() - 60_000);

    const key = s.takeKey(sampleTake(1, 2, line).keyInput);
    expect(key).toBe(first.key);
    expect(s.findTake(key)?.id).toBe(first.id);
    expect(s.findTake(s.takeKey(sampleKeyInput({ seed: 999 })))).toBeNull();

    // Same inputs again: the existing take comes back and nothing new is stored.
    const again = s.putTake({ ...sampleTake(1, 2, line), audio: speechLikeAudio(2, 77) });
    expect(again.id).toBe(first.id);
    expect(s.stats().takeCount).toBe(2);

    const listed = s.listTakes(line);
    expect(listed.map((t) => t.id)).toEqual([first.id, second.id]);
    expect(listed.every((t) => !t.chosen && t.lineText === line.text)).toBe(true);
  });

  it('keeps one chosen take per line', async () => {
    const s = await store();
    const line = sampleLine();
    const a = s.putTake(sampleTake(1, 1, line));
    const b = s.putTake(sampleTake(2, 1, line));
    expect(s.chosenTake(line, 'S1')).toBeNull();
    s.chooseTake(line, a.id);
    s.chooseTake(line, b.id);
    expect(s.chosenTake(line, 'S1')?.id).toBe(b.id);
    expect(s.listTakes(line).map((t) => t.chosen)).toEqual([false, true]);
    expect(s.stats().chosenCount).toBe(1);
    s.clearChoice(line, 'S1');
    expect(s.chosenTake(line, 'S1')).toBeNull();
    expect(errorOf(() => s.chooseTake(line, 12345)).code).toBe('not-found');
    expect(errorOf(() => s.clearChoice(line, '')).code).toBe('invalid-input');
    expect(errorOf(() => s.chosenTake(line, '')).code).toBe('invalid-input');
  });

  it('keeps a chosen take per wording and speaker of a line, so an edit undone finds its choice again', async () => {
    const s = await store();
    const a = sampleLine({ text: 'Wording A.' });
    const b = { ...a, text: 'Wording B.' };
    const [, a2] = [1, 2, 3].map((seed) => s.putTake(sampleTake(seed, 0.5, a)));
    const b4 = s.putTake(sampleTake(4, 0.5, b));
    s.chooseTake(a, a2.id);
    s.chooseTake(b, b4.id);
    const chosenIds = (): number[] => s.listTakes(a).filter((t) => t.chosen).map((t) => t.id);
    expect(chosenIds()).toEqual([a2.id, b4.id]);
    expect([s.chosenTake(a, 'S1')?.id, s.chosenTake(b, 'S1')?.id, s.chosenTake(a, 'S2')]).toEqual([a2.id, b4.id, null]);
    // Choosing a take of the earlier words while the line says B chooses it for those words.
    s.chooseTake(b, a2.id);
    expect([s.chosenTake(a, 'S1')?.id, s.chosenTake(b, 'S1')?.id]).toEqual([a2.id, b4.id]);
    // The same words for another speaker are another voicing.
    const byS2 = s.putTake({ ...sampleTake(5, 0.5, a), keyInput: sampleKeyInput({ seed: 5, speaker: 'S2', normalizedText: '[S2] Wording A.' }) });
    s.chooseTake(a, byS2.id);
    expect(chosenIds()).toEqual([a2.id, b4.id, byS2.id]);
    // Clearing forgets one voicing's choice only.
    s.clearChoice(a, 'S1');
    expect(chosenIds()).toEqual([b4.id, byS2.id]);
    // Only the line's latest choice pins its take, so only that one counts as chosen.
    expect(s.stats().chosenCount).toBe(1);
    // Deleting a chosen take forgets its choice, and only that one.
    s.deleteTake(b4.id);
    expect(chosenIds()).toEqual([byS2.id]);
  });

  it('choosing a take of an earlier wording keeps that wording on the take', async () => {
    const s = await store();
    const before = sampleLine({ text: 'Hello.' });
    const old = s.putTake(sampleTake(1, 1, before));
    const edited = { ...before, text: 'Goodbye forever.' };
    s.chooseTake(edited, old.id);
    expect(s.listTakes(edited)).toMatchObject([{ id: old.id, chosen: true, lineText: 'Hello.' }]);
    // A take the line did not have yet is linked with the text it was chosen for.
    const other = s.putTake(sampleTake(2, 1, sampleLine({ lineId: 'line-2', text: 'Goodbye forever.' })));
    s.chooseTake(edited, other.id);
    expect(s.listTakes(edited).map((t) => [t.id, t.lineText])).toEqual([[old.id, 'Hello.'], [other.id, 'Goodbye forever.']]);
  });

  it('a cache hit for a line counts the use and links the take in one transaction, or writes neither', async () => {
    const s = await store();
    const made = s.putTake(sampleTake(7, 1, sampleLine({ lineId: 'made-for' })));
    const other = s.putTake(sampleTake(8, 1, sampleLine({ lineId: 'made-for' })));
    const asking = sampleLine({ lineId: 'asking' });
    const db = new Database(s.path);
    const lru = (id: number): number => db.prepare('SELECT lru_seq FROM takes WHERE id = ?').pluck().get(id) as number;
    try {
      expect(s.useTake(s.takeKey(sampleKeyInput({ seed: 999 })), asking)).toBeNull();
      expect(lru(made.id)).toBeLessThan(lru(other.id));

      // The link fails after the use was counted: the use must not stay counted without the link.
      db.exec("CREATE TRIGGER refuse_link BEFORE INSERT ON line_takes BEGIN SELECT RAISE(ABORT, 'link refused'); END");
      const before = lru(made.id);
      expect(errorOf(() => s.useTake(made.key, asking)).message).toMatch(/link refused/);
      expect(lru(made.id)).toBe(before);
      expect(s.listTakes(asking)).toEqual([]);

      db.exec('DROP TRIGGER refuse_link');
      const hit = s.useTake(made.key, asking)!;
      expect(hit.id).toBe(made.id);
      expect(hit.lastUsedAt).toBeGreaterThanOrEqual(made.lastUsedAt);
      expect(lru(made.id)).toBeGreaterThan(lru(other.id)); // now the most recently used
      expect(s.listTakes(asking).map((t) => [t.id, t.lineText])).toEqual([[made.id, asking.text]]);

      // Replaying the hit does not count it a second time; playing it does.
      const counted = lru(made.id);
      s.openAudioStream(made.id, { countUse: false }).close();
      expect(lru(made.id)).toBe(counted);
      s.openAudioStream(other.id).close();
      expect(lru(other.id)).toBeGreaterThan(counted);
      expect(errorOf(() => s.useTake('not-a-key', asking)).code).toBe('invalid-input');
      expect(errorOf(() => s.useTake(made.key, { ...asking, lineId: '../x' })).code).toBe('invalid-input');
    } finally {
      db.close();
    }
  });

  it('lists the lines a take is linked to', async () => {
    const s = await store();
    const first = sampleLine({ lineId: 'line-a', text: 'Shared.' });
    const take = s.putTake(sampleTake(5, 1, first));
    const second = sampleLine({ projectId: 'project-2', lineId: 'line-b', text: 'Shared.' });
    s.chooseTake(second, take.id);
    expect(s.linesOfTake(take.id)).toEqual([first, second]);
    s.deleteTake(take.id);
    expect(s.linesOfTake(take.id)).toEqual([]);
    expect(errorOf(() => s.linesOfTake(0)).code).toBe('invalid-input');
  });

  it('lists the lines that chose a take for the words it is linked with', async () => {
    const s = await store();
    const first = sampleLine({ lineId: 'line-a', text: 'Shared.' });
    const take = s.putTake(sampleTake(5, 1, first));
    const second = sampleLine({ projectId: 'project-2', lineId: 'line-b', text: 'Shared.' });
    const third = sampleLine({ lineId: 'line-c', text: 'Shared.' });
    s.chooseTake(second, take.id);
    s.chooseTake(first, take.id);
    s.useTake(take.key, third); // linked, never chosen
    expect(s.linesChoosing(take.id)).toEqual([first, second]);
    // A cache hit relinks the take to other words: its choice of the old words no longer counts.
    s.useTake(take.key, { ...first, text: 'Shared!' });
    expect(s.linesChoosing(take.id)).toEqual([second]);
    expect(errorOf(() => s.linesChoosing(0)).code).toBe('invalid-input');
  });

  it('releases the takes of a deleted project so they can be evicted', async () => {
    const s = await store();
    const line = sampleLine({ lineId: 'line-a' });
    const take = s.putTake(sampleTake(6, 1, line));
    const other = sampleLine({ projectId: 'project-2', lineId: 'line-b' });
    s.putTake(sampleTake(6, 1, other)); // same inputs: the same take, linked to both projects
    s.chooseTake(line, take.id);
    expect(s.releaseProject('project-1')).toBe(1);
    expect(s.chosenTake(line, 'S1')).toBeNull();
    expect(s.listTakes(line)).toEqual([]);
    expect(s.linesOfTake(take.id)).toEqual([other]);
    expect(s.stats().chosenCount).toBe(0);
    expect(s.releaseProject('project-1')).toBe(0);
    expect(errorOf(() => s.releaseProject('../x')).code).toBe('invalid-input');
  });

  it('reads audio back within 2^-23, whole or streamed', async () => {
    const s = await store();
    const take = sampleTake(3, 4);
    const rec = s.putTake(take);
    const audio = s.readAudio(rec.id);
    expect(maxError(audio, take.audio)).toBeLessThanOrEqual(2 ** -23);
    expect(audio).toEqual(pcm24ToFloat(floatToPcm24(take.audio)));

    const stream = s.openAudioStream(rec.id);
    expect(stream.sampleRate).toBe(44_100);
    expect(stream.sampleCount).toBe(take.audio.length);
    const head = stream.readSamples(4410)!;
    expect(head.length).toBeGreaterThanOrEqual(4410);
    const rest = [...stream];
    const joined = concatFloat32([head, ...rest]);
    expect(joined).toEqual(audio);
    expect(stream.read()).toBeNull();
  });

  it('evicts least-recently-used unchosen takes beyond maxBytes, never chosen ones', async () => {
    const probe = await store();
    const size = probe.putTake(sampleTake(1, 2)).flacBytes;
    const s = await store(tempDir(), { maxBytes: Math.floor(size * 3.5) });
    const line = sampleLine();
    const ids = [1, 2, 3].map((seed) => s.putTake(sampleTake(seed, 2, line)).id);
    s.chooseTake(line, ids[0]); // oldest, but chosen
    s.touch(ids[1]); // now more recent than ids[2]
    const fourth = s.putTake(sampleTake(4, 2, line));
    expect(s.listTakes(line).map((t) => t.id)).toEqual([ids[0], ids[1], fourth.id]);
    expect(s.stats().audioBytes).toBeLessThanOrEqual(s.maxBytes);
    expect(s.evictToLimit()).toEqual({ evictedTakes: 0, freedBytes: 0 });

    // Playing a take counts as use too.
    s.openAudioStream(ids[1]).close();
    s.putTake(sampleTake(5, 2, line));
    expect(s.listTakes(line).map((t) => t.id)).toContain(ids[1]);
    expect(s.listTakes(line).map((t) => t.id)).not.toContain(fourth.id);
  });

  it('pins only each line\'s latest choice against eviction; choices of its earlier words last while their takes do', async () => {
    const probe = await store();
    const size = probe.putTake(sampleTake(1, 1)).flacBytes;
    const s = await store(tempDir(), { maxBytes: Math.floor(size * 2.5) });
    // A line edited and rendered again and again: each render chooses its new take.
    const wordings = ['One.', 'Two.', 'Three.', 'Four.'].map((text) => sampleLine({ text }));
    const takes = wordings.map((ref, i) => {
      const take = s.putTake(sampleTake(i + 1, 1, ref));
      s.chooseTake(ref, take.id);
      return take;
    });
    const kept = (): number[] => s.listTakes(wordings[0]).map((t) => t.id);
    expect(kept()).toEqual([takes[2].id, takes[3].id]);
    expect(s.stats()).toMatchObject({ takeCount: 2, chosenCount: 1 });
    expect(s.stats().audioBytes).toBeLessThanOrEqual(s.maxBytes);
    // An undo still finds the choice of the earlier words while its take is there.
    expect(s.chosenTake(wordings[2], 'S1')?.id).toBe(takes[2].id);
    expect(s.chosenTake(wordings[0], 'S1')).toBeNull();

    // Choosing the earlier words' take again makes it the pinned one.
    s.chooseTake(wordings[2], takes[2].id);
    const fifth = s.putTake(sampleTake(5, 1, sampleLine({ lineId: 'line-2' })));
    expect(kept()).toEqual([takes[2].id]);
    expect(s.chosenTake(wordings[3], 'S1')).toBeNull();
    expect(s.clear()).toEqual({ removed: 1, freedBytes: fifth.flacBytes });
    expect(s.getTake(fifth.id)).toBeNull();
    expect(s.stats()).toMatchObject({ takeCount: 1, chosenCount: 1 });
  });

  it('stats() counts the audio of the pinned takes: each line\'s latest choice, once however many lines chose it', async () => {
    const s = await store();
    const line = sampleLine();
    const other = sampleLine({ lineId: 'line-2' });
    const earlier = s.putTake(sampleTake(1, 1, sampleLine({ text: 'Earlier words.' })));
    s.chooseTake(sampleLine({ text: 'Earlier words.' }), earlier.id);
    const latest = s.putTake(sampleTake(2, 1, line));
    s.chooseTake(line, latest.id);
    s.chooseTake(other, latest.id);
    const unused = s.putTake(sampleTake(3, 2, other));
    expect(s.stats()).toMatchObject({
      takeCount: 3,
      chosenCount: 1,
      audioBytes: earlier.flacBytes + latest.flacBytes + unused.flacBytes,
      pinnedBytes: latest.flacBytes,
    });
    expect(s.clear()).toEqual({ removed: 2, freedBytes: earlier.flacBytes + unused.flacBytes });
    expect(s.stats()).toMatchObject({ takeCount: 1, audioBytes: latest.flacBytes, pinnedBytes: latest.flacBytes });
    expect(s.clear({ includeChosen: true })).toEqual({ removed: 1, freedBytes: latest.flacBytes });
    expect(s.stats()).toMatchObject({ chosenCount: 0, audioBytes: 0, pinnedBytes: 0 });
  });

  it('finds each line\'s latest choice through an index, not a scan of every choice, when evicting', async () => {
    const s = await store();
    const db = new Database(s.path, { readonly: true });
    try {
      const sql = prepareTakeStatements(db);
      for (const [statement, params] of [[sql.evictable, [32]], [sql.clearUnchosen, []], [sql.pinned, []]] as const) {
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${statement.source}`).all(...params) as { detail: string }[]).map((r) => r.detail);
        expect(plan.filter((d) => / l\b/.test(d))).toEqual([expect.stringMatching(/^SEARCH l USING COVERING INDEX \S+ \(project_id=\? AND line_id=\?\)$/)]);
      }
    } finally {
      db.close();
    }
  });

  it('clear() keeps chosen takes unless includeChosen is set; deleteTake removes one', async () => {
    const s = await store();
    const line = sampleLine();
    const kept = s.putTake(sampleTake(1, 1, line));
    const spare = [s.putTake(sampleTake(2, 1, line)), s.putTake(sampleTake(3, 1, sampleLine({ lineId: 'line-2' })))];
    s.chooseTake(line, kept.id);
    expect(s.clear()).toEqual({ removed: 2, freedBytes: spare[0].flacBytes + spare[1].flacBytes });
    expect(s.listTakes(line).map((t) => t.id)).toEqual([kept.id]);
    expect(s.clear({ includeChosen: true })).toEqual({ removed: 1, freedBytes: kept.flacBytes });
    expect(s.stats()).toMatchObject({ takeCount: 0, chosenCount: 0, audioBytes: 0 });

    const t = s.putTake(sampleTake(4, 1, line));
    s.chooseTake(line, t.id);
    expect(s.deleteTake(t.id)).toBe(true);
    expect(s.deleteTake(t.id)).toBe(false);
    expect(s.chosenTake(line, 'S1')).toBeNull();
    expect(errorOf(() => s.readAudio(t.id)).code).toBe('not-found');
    expect(errorOf(() => s.openAudioStream(t.id)).code).toBe('not-found');
    expect(errorOf(() => s.touch(t.id)).code).toBe('not-found');
  });

  it('drops a take whose stored audio fails verification and says so', async () => {
    const s = await store();
    const line = sampleLine();
    const whole = s.putTake(sampleTake(1, 3, line));
    const streamed = s.putTake(sampleTake(2, 3, line));
    const db = new Database(s.path);
    for (const id of [whole.id, streamed.id]) {
      const data = db.prepare('SELECT data FROM take_audio WHERE take_id = ? AND seq = 1').pluck().get(id) as Buffer;
      data[1000] ^= 0x20;
      db.prepare('UPDATE take_audio SET data = ? WHERE take_id = ? AND seq = 1').run(data, id);
    }
    db.close();

    const err = errorOf(() => s.readAudio(whole.id));
    expect(err.code).toBe('store-corrupt');
    expect(err.message).toMatch(new RegExp(`^take ${whole.id}: FLAC audio is damaged .*The take was removed from the cache at .*takes\\.sqlite`));
    const stream = s.openAudioStream(streamed.id);
    expect(stream.read()!.length).toBe(4096); // the first piece is intact and plays
    const streamErr = errorOf(() => { while (stream.read()); });
    expect(streamErr.code).toBe('store-corrupt');
    expect(s.listTakes(line)).toEqual([]);
    expect(s.recovery).toBeNull(); // one bad take is not a bad cache
  });

  it('hands out a take\'s FLAC for copying only once it decodes and matches its checksum', async () => {
    const s = await store();
    const line = sampleLine();
    const good = s.putTake(sampleTake(1, 1, line));
    const bad = s.putTake(sampleTake(2, 1, line));
    expect(s.readVerifiedFlac(good.id)).toEqual(s.readFlac(good.id));
    const db = new Database(s.path);
    const data = db.prepare('SELECT data FROM take_audio WHERE take_id = ? AND seq = 0').pluck().get(bad.id) as Buffer;
    data[data.length >> 1] ^= 0x20;
    db.prepare('UPDATE take_audio SET data = ? WHERE take_id = ? AND seq = 0').run(data, bad.id);
    db.close();
    expect(s.readFlac(bad.id)).toHaveLength(bad.flacBytes); // its structure alone looks fine
    expect(errorOf(() => s.readVerifiedFlac(bad.id)).code).toBe('store-corrupt');
    expect(s.listTakes(line).map((t) => t.id)).toEqual([good.id]);
  });

  it('rejects bad input with invalid-input and stores nothing', async () => {
    const s = await store();
    const good = sampleTake(1, 0.5);
    const cases: Array<[string, unknown, RegExp]> = [
      ['NaN sample', { ...good, audio: Float32Array.from([0.1, Number.NaN]) }, /sample 1 is NaN/],
      ['infinite sample', { ...good, audio: Float32Array.from([Number.NEGATIVE_INFINITY]) }, /sample 0 is -Infinity/],
      ['zero-length audio', { ...good, audio: new Float32Array(0) }, /empty/],
      ['plain array audio', { ...good, audio: [0, 0.1] }, /Float32Array/],
      ['enormous text', { ...good, keyInput: sampleKeyInput({ normalizedText: 'x'.repeat(10_007) }) }, /normalizedText is longer than 10006/],
      ['enormous line text', { ...good, line: sampleLine({ text: 'y'.repeat(1_000_001) }) }, /line reference: text is longer/],
      ['lone surrogate in text', { ...good, keyInput: sampleKeyInput({ normalizedText: 'a\uDC00b' }) }, /lone UTF-16 surrogate/],
      ['lone surrogate in line', { ...good, line: sampleLine({ text: '\uD83D' }) }, /lone UTF-16 surrogate/],
      ['NUL in speaker', { ...good, keyInput: sampleKeyInput({ speaker: 'S\u00001' }) }, /NUL/],
      ['bad line id', { ...good, line: sampleLine({ lineId: '../../etc' }) }, /lineId/],
      ['negative generation time', { ...good, metrics: { ...good.metrics, generationMs: -1 } }, /generationMs/],
      ['ttfa after the end', { ...good, metrics: { generationMs: 10, ttfaMs: 20, steps: 1 } }, /ttfaMs cannot exceed/],
      ['bad sample rate', { ...good, sampleRate: 1 }, /sample rate 1/],
      ['not an object', null, /expected an object/],
    ];
    for (const [name, input, message] of cases) {
      const err = errorOf(() => s.putTake(input as never));
      expect(err.code, name).toBe('invalid-input');
      expect(err.message, name).toMatch(message);
    }
    expect(s.stats().takeCount).toBe(0);
    expect(errorOf(() => s.findTake('not-a-key')).code).toBe('invalid-input');
    expect(errorOf(() => s.readAudio(-1)).code).toBe('invalid-input');
    expect(errorOf(() => s.listTakes({ projectId: 'p', lineId: 'l', text: 'ok', extra: 1 } as never)).message).toMatch(/extra/);
  });

  it('maps a full disk to disk-full and loses nothing committed', async () => {
    const s = await store(tempDir(), { maxFileBytes: 1024 * 1024 });
    const line = sampleLine();
    const saved: number[] = [];
    let err: AppError | null = null;
    for (let seed = 1; seed < 40 && !err; seed++) {
      try {
        saved.push(s.putTake(sampleTake(seed, 1, line)).id);
      } catch (e) {
        err = e as AppError;
      }
    }
    expect(err?.code).toBe('disk-full');
    expect(err?.message).toMatch(/takes\.sqlite/);
    expect(saved.length).toBeGreaterThan(1);
    expect(s.listTakes(line).map((t) => t.id)).toEqual(saved);
    for (const id of saved) expect(s.readAudio(id).length).toBe(44_100);
    const db = new Database(s.path, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });

  it('serves chosen takes offline after a reopen with nothing else loaded', async () => {
    const dir = tempDir();
    const line = sampleLine();
    const first = await openTakeStore(dir);
    const takes = [sampleTake(1, 1.5, line), sampleTake(2, 0.7, sampleLine({ lineId: 'line-2' }))];
    const records = takes.map((t) => first.putTake(t));
    first.chooseTake(line, records[0].id);
    first.chooseTake(sampleLine({ lineId: 'line-2' }), records[1].id);
    const before = records.map((r) => first.readAudio(r.id));
    first.close();

    const again = await store(dir);
    for (const [i, lineRef] of [line, sampleLine({ lineId: 'line-2' })].entries()) {
      const chosen = again.chosenTake(lineRef, 'S1')!;
      expect(chosen.key).toBe(records[i].key);
      const audio = again.readAudio(chosen.id);
      expect(audio).toEqual(before[i]);
      expect(maxError(audio, takes[i].audio)).toBeLessThanOrEqual(2 ** -23);
    }
  });

  it('creates a WAL database stamped with its application id and schema version', async () => {
    const s = await store();
    const db = new Database(s.path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(3);
    expect(db.pragma('application_id', { simple: true })).toBe(0x44696154);
    db.close();
    s.close();
    expect(errorOf(() => s.stats()).message).toMatch(/closed/);
  });
});
