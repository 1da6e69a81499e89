// TakeService over real SQLite stores: summaries per the API schema, choices recorded in both
// stores, deleting a chosen take, and streaming a take as take:audio events.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as v from 'valibot';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { AppEventSchema, type AppEvent } from '../../src-shared/api.ts';
import { TakeSummarySchema } from '../../src-shared/api/projects.ts';
import { createTakeService, TAKE_STREAM_CHUNK } from './take-service.ts';
import { EventLog, openTestStores, putTestTake, type TestStores } from './store-test-support.ts';
import { findTakeInUse } from './current-take.ts';
import { removeTempDirs } from '../store/testing.ts';
import { PROJECT_STORE_FILE } from '../store/project-schema.ts';
import { TAKE_CACHE_FILE } from '../store/take-schema.ts';
import type { Project } from '../store/types.ts';

afterAll(removeTempDirs);

let stores: TestStores;
let project: Project;
const lineA = (): { projectId: string; lineId: string; text: string } => ({ projectId: project.id, lineId: 'a', text: 'Hi.' });
const lineB = (): { projectId: string; lineId: string; text: string } => ({ projectId: project.id, lineId: 'b', text: 'Hello!' });

beforeEach(async () => {
  stores = await openTestStores();
  const created = stores.projects.createProject('Takes', undefined, [{ id: 'S1', name: 'Speaker 1', color: '#0072b2', voicePrompt: null }]);
  project = stores.projects.saveProject({
    ...created,
    lines: [{ id: 'a', speakerId: 'S1', text: 'Hi.', chosenTake: null }, { id: 'b', speakerId: 'S1', text: 'Hello!', chosenTake: null }],
  });
});
afterEach(() => stores.close());

type AudioEvent = Extract<AppEvent, { type: 'take:audio' }>;

describe('TakeService', () => {
  it('lists a line\'s takes as API summaries', async () => {
    const service = createTakeService(stores, new EventLog());
    const first = putTestTake(stores, lineA(), 1, 0.5);
    const second = putTestTake(stores, lineA(), 2, 1);
    stores.takes.chooseTake(lineA(), second.id);
    const listed = await service.listTakes(lineA());
    expect(v.parse(v.array(TakeSummarySchema), listed)).toEqual(listed);
    expect(listed.map((t) => [t.id, t.chosen])).toEqual([[first.id, false], [second.id, true]]);
    expect(listed[1]).toEqual({
      id: second.id,
      seed: 2,
      createdAt: second.createdAt,
      chosen: true,
      lineText: 'Hi.',
      speaker: 'S1',
      sampleRate: 44_100,
      sampleCount: 44_100,
      durationSeconds: 1,
      cut: false,
      metrics: { generationMs: 2000, ttfaMs: 300, steps: 86, rtf: 2, stepsPerSecond: 43 },
      model: { id: second.input.model.id, precision: second.input.model.precision, deviceClass: 'cpu' },
    });
    expect(await service.listTakes(lineB())).toEqual([]);
  });

  it('lists a take whatever speaker the take cache accepted for it (e.g. from an imported file)', async () => {
    const service = createTakeService(stores, new EventLog());
    putTestTake(stores, lineA(), 1, 0.5, `S${'1'.repeat(80)}`);
    const listed = await service.listTakes(lineA());
    expect(v.parse(v.array(TakeSummarySchema), listed).map((t) => t.speaker.length)).toEqual([81]);
  });

  it('records a choice in the cache and on the project line, and clears it with null', async () => {
    const service = createTakeService(stores, new EventLog());
    const t1 = putTestTake(stores, lineA(), 1);
    const t2 = putTestTake(stores, lineA(), 2);
    await service.chooseTake(lineA(), t1.id);
    await service.chooseTake(lineA(), t2.id);
    expect(stores.takes.chosenTake(lineA(), 'S1')?.id).toBe(t2.id);
    const stored = stores.projects.loadProject(project.id);
    expect(stored.lines[0].chosenTake).toEqual({ key: t2.key, input: t2.input });
    expect(stored.lines[1].chosenTake).toBeNull();
    await service.chooseTake(lineA(), null);
    expect(stores.takes.chosenTake(lineA(), 'S1')).toBeNull();
    expect(stores.projects.loadProject(project.id).lines[0].chosenTake).toBeNull();
  });

  it('clears with null only the choice of the line\'s words', async () => {
    const service = createTakeService(stores, new EventLog());
    const earlier = { ...lineA(), text: 'Hi there.' };
    const old = putTestTake(stores, earlier, 1);
    const hi = putTestTake(stores, lineA(), 3);
    stores.takes.chooseTake(earlier, old.id);
    await service.chooseTake(lineA(), hi.id);
    await service.chooseTake(lineA(), null);
    expect(stores.takes.chosenTake(lineA(), 'S1')).toBeNull();
    expect(stores.takes.chosenTake(earlier, 'S1')?.id).toBe(old.id);
  });

  it('refuses a take of other words, another speaker or another line, so the take in use stays pinned', async () => {
    const service = createTakeService(stores, new EventLog());
    const earlier = putTestTake(stores, { ...lineA(), text: 'Hi there.' }, 1);
    const inUse = putTestTake(stores, lineA(), 2);
    const byS2 = putTestTake(stores, lineA(), 3, 0.5, 'S2');
    const ofLineB = putTestTake(stores, lineB(), 4);
    await service.chooseTake(lineA(), inUse.id);
    for (const take of [earlier, byS2, ofLineB]) {
      await expect(service.chooseTake(lineA(), take.id)).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringContaining(`Take ${take.id}`) });
    }
    // Nothing recorded: not in the cache (no link of line b's take to line a either), not on the project line.
    expect(stores.takes.linesOfTake(ofLineB.id).map((l) => l.lineId)).toEqual(['b']);
    expect(stores.takes.chosenTake({ ...lineA(), text: 'Hi there.' }, 'S1')).toBeNull();
    expect(findTakeInUse(stores.takes, lineA(), 'S1')?.id).toBe(inUse.id);
    expect(stores.projects.loadProject(project.id).lines[0].chosenTake?.key).toBe(inUse.key);
    stores.takes.setMaxBytes(1);
    stores.takes.evictToLimit();
    expect(stores.takes.getTake(inUse.id)?.id).toBe(inUse.id);
  });

  it('leaves both stores as they were when either refuses a choice, down to which choice pins its take', async () => {
    const service = createTakeService(stores, new EventLog());
    const earlier = { ...lineA(), text: 'Hi there.' };
    const old = putTestTake(stores, earlier, 1);
    const hi = putTestTake(stores, lineA(), 2);
    const hiSpare = putTestTake(stores, lineA(), 3);
    await service.chooseTake(lineA(), hi.id);
    // A render of the earlier words that finished after an undo chose its take last: it is the pinned one.
    stores.takes.chooseTake(earlier, old.id);
    const pinned = stores.takes.stats().pinnedBytes;
    const unchanged = (): void => {
      expect(stores.takes.chosenTake(lineA(), 'S1')?.id).toBe(hi.id);
      expect(stores.takes.chosenTake(earlier, 'S1')?.id).toBe(old.id);
      expect(stores.takes.stats().pinnedBytes).toBe(pinned);
      expect(stores.projects.loadProject(project.id).lines[0].chosenTake?.key).toBe(hi.key);
    };
    const refuse = async (file: string, ...triggers: string[]): Promise<void> => {
      const db = new Database(join(stores.dir, file));
      triggers.forEach((t, i) => db.exec(`CREATE TRIGGER refuse_choice_${i} ${t} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`));
      try {
        await expect(service.chooseTake(lineA(), hiSpare.id)).rejects.toMatchObject({ message: expect.stringContaining('refused by the test') });
        unchanged();
        await expect(service.chooseTake(lineA(), null)).rejects.toMatchObject({ message: expect.stringContaining('refused by the test') });
        unchanged();
      } finally {
        triggers.forEach((_, i) => db.exec(`DROP TRIGGER refuse_choice_${i}`));
        db.close();
      }
    };
    await refuse(PROJECT_STORE_FILE, 'BEFORE UPDATE OF chosen_take ON lines');
    await refuse(TAKE_CACHE_FILE, 'BEFORE INSERT ON chosen_takes', 'BEFORE DELETE ON chosen_takes');
    stores.takes.setMaxBytes(1);
    stores.takes.evictToLimit();
    expect([stores.takes.getTake(old.id)?.id, stores.takes.getTake(hi.id)]).toEqual([old.id, null]);
  });

  it('refuses choices for unknown takes, projects and unsaved lines without touching either store', async () => {
    const service = createTakeService(stores, new EventLog());
    const t1 = putTestTake(stores, lineA(), 1);
    await service.chooseTake(lineA(), t1.id);
    await expect(service.chooseTake(lineA(), 99_999)).rejects.toMatchObject({ code: 'not-found', message: expect.stringContaining('Take 99999') });
    const unsaved = { projectId: project.id, lineId: 'new-line', text: 'Not saved yet.' };
    await expect(service.chooseTake(unsaved, t1.id)).rejects.toMatchObject({ code: 'not-found', message: expect.stringMatching(/Line new-line .*save the project/) });
    await expect(service.chooseTake({ ...lineA(), projectId: 'gone' }, t1.id)).rejects.toMatchObject({ code: 'not-found' });
    expect(stores.takes.chosenTake(lineA(), 'S1')?.id).toBe(t1.id);
    expect(stores.takes.chosenTake(unsaved, 'S1')).toBeNull();
    expect(stores.projects.loadProject(project.id).lines[0].chosenTake?.key).toBe(t1.key);
  });

  it('deletes a chosen take and un-chooses it in both stores', async () => {
    const service = createTakeService(stores, new EventLog());
    const chosen = putTestTake(stores, lineA(), 1);
    const other = putTestTake(stores, lineB(), 2);
    await service.chooseTake(lineA(), chosen.id);
    await service.chooseTake(lineB(), other.id);
    await service.deleteTake(chosen.id);
    expect(stores.takes.getTake(chosen.id)).toBeNull();
    expect(stores.takes.chosenTake(lineA(), 'S1')).toBeNull();
    expect(stores.projects.loadProject(project.id).lines.map((l) => l.chosenTake?.key ?? null)).toEqual([null, other.key]);
    await expect(service.deleteTake(chosen.id)).rejects.toMatchObject({ code: 'not-found' });
  });

  it('deleting the take in use puts the newest remaining take of the line\'s words and speaker in use, in both stores', async () => {
    const service = createTakeService(stores, new EventLog());
    const older = putTestTake(stores, lineA(), 1);
    const newer = putTestTake(stores, lineA(), 2);
    const inUse = putTestTake(stores, lineA(), 3);
    // Newer still, but not the line as it is now: another speaker, an earlier wording.
    putTestTake(stores, lineA(), 4, 0.5, 'S2');
    putTestTake(stores, { ...lineA(), text: 'Hi there.' }, 5);
    await service.chooseTake(lineA(), inUse.id);
    await service.deleteTake(inUse.id);
    expect(stores.takes.chosenTake(lineA(), 'S1')?.id).toBe(newer.id);
    expect(stores.projects.loadProject(project.id).lines[0].chosenTake).toEqual({ key: newer.key, input: newer.input });
    expect((await service.listTakes(lineA())).filter((t) => t.chosen).map((t) => t.id)).toEqual([newer.id]);
    // And again: the last take of the line's words goes in use once the one before it is deleted.
    await service.deleteTake(newer.id);
    expect(stores.takes.chosenTake(lineA(), 'S1')?.id).toBe(older.id);
    expect(stores.projects.loadProject(project.id).lines[0].chosenTake?.key).toBe(older.key);
  });

  it('deleting the take in use leaves a line whose other takes say other words (or another speaker) with none', async () => {
    const service = createTakeService(stores, new EventLog());
    const inUse = putTestTake(stores, lineA(), 1);
    const otherSpeaker = putTestTake(stores, lineA(), 2, 0.5, 'S2');
    const earlier = putTestTake(stores, { ...lineA(), text: 'Hi there.' }, 3);
    await service.chooseTake(lineA(), inUse.id);
    await service.deleteTake(inUse.id);
    expect(stores.takes.chosenTake(lineA(), 'S1')).toBeNull();
    expect(stores.projects.loadProject(project.id).lines[0].chosenTake).toBeNull();
    expect((await service.listTakes(lineA())).map((t) => [t.id, t.chosen])).toEqual([[otherSpeaker.id, false], [earlier.id, false]]);
  });

  it('deleting a take two lines use (same words, speaker and seed) puts each line\'s own newest take in use', async () => {
    const service = createTakeService(stores, new EventLog());
    const saved = stores.projects.loadProject(project.id);
    stores.projects.saveProject({ ...saved, lines: [...saved.lines, { id: 'c', speakerId: 'S1', text: 'Hi.', chosenTake: null }] });
    const lineC = { projectId: project.id, lineId: 'c', text: 'Hi.' };
    const cOwn = putTestTake(stores, lineC, 7);
    const shared = putTestTake(stores, lineA(), 1);
    expect(putTestTake(stores, lineC, 1).id).toBe(shared.id);
    await service.chooseTake(lineA(), shared.id);
    await service.chooseTake(lineC, shared.id);
    await service.deleteTake(shared.id);
    expect(stores.takes.chosenTake(lineA(), 'S1')).toBeNull();
    expect(stores.takes.chosenTake(lineC, 'S1')?.id).toBe(cOwn.id);
    expect(stores.projects.loadProject(project.id).lines.map((l) => l.chosenTake?.key ?? null)).toEqual([null, null, cOwn.key]);
  });

  it('deleting the take in use of a line the project no longer has keeps a choice in the cache for an undo', async () => {
    const service = createTakeService(stores, new EventLog());
    const gone = { projectId: project.id, lineId: 'gone', text: 'Deleted line.' };
    const older = putTestTake(stores, gone, 1);
    const inUse = putTestTake(stores, gone, 2);
    stores.takes.chooseTake(gone, inUse.id);
    await service.deleteTake(inUse.id);
    expect(stores.takes.chosenTake(gone, 'S1')?.id).toBe(older.id);
    expect(stores.projects.loadProject(project.id).lines.map((l) => l.chosenTake)).toEqual([null, null]);
  });

  it('deleting a take not in use leaves the line\'s choice alone', async () => {
    const service = createTakeService(stores, new EventLog());
    const inUse = putTestTake(stores, lineA(), 1);
    const spare = putTestTake(stores, lineA(), 2);
    await service.chooseTake(lineA(), inUse.id);
    await service.deleteTake(spare.id);
    expect(stores.takes.chosenTake(lineA(), 'S1')?.id).toBe(inUse.id);
    expect(stores.projects.loadProject(project.id).lines[0].chosenTake?.key).toBe(inUse.key);
  });

  it('deleting a take of a line that chose none records no choice for it', async () => {
    const service = createTakeService(stores, new EventLog());
    const older = putTestTake(stores, lineA(), 1);
    putTestTake(stores, lineA(), 2);
    await service.deleteTake(older.id);
    expect(stores.takes.chosenTake(lineA(), 'S1')).toBeNull();
    expect(stores.projects.loadProject(project.id).lines[0].chosenTake).toBeNull();
  });

  it('streams a take as ~4096-sample take:audio events, the last one marked, matching the stored audio', async () => {
    const log = new EventLog();
    const service = createTakeService(stores, log);
    const take = putTestTake(stores, lineA(), 5, 1.3);
    const format = await service.streamTakeAudio('stream-1', take.id);
    expect(format).toEqual({ sampleRate: 44_100, sampleCount: take.sampleCount });
    expect(log.events).toEqual([]); // nothing is emitted before the call has returned
    await log.next((e) => e.type === 'take:audio' && e.last);
    const chunks = log.events.filter((e): e is AudioEvent => e.type === 'take:audio' && e.streamId === 'stream-1');
    for (const c of chunks) expect(v.parse(AppEventSchema, c)).toEqual(c);
    expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i));
    expect(chunks.map((c) => c.last)).toEqual(chunks.map((_, i) => i === chunks.length - 1));
    expect(chunks.slice(0, -1).every((c) => c.samples.length === TAKE_STREAM_CHUNK)).toBe(true);
    const joined = new Float32Array(take.sampleCount);
    let at = 0;
    for (const c of chunks) {
      joined.set(c.samples, at);
      at += c.samples.length;
    }
    expect(at).toBe(take.sampleCount);
    expect(joined).toEqual(stores.takes.readAudio(take.id));
  });

  it('yields to the event loop between chunks', async () => {
    const log = new EventLog();
    const service = createTakeService(stores, log);
    const take = putTestTake(stores, lineA(), 6, 2);
    await service.streamTakeAudio('stream-2', take.id);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 0);
    await log.next((e) => e.type === 'take:audio' && e.last);
    clearInterval(ticker);
    const chunks = log.events.filter((e) => e.type === 'take:audio').length;
    expect(chunks).toBeGreaterThan(20);
    expect(ticks).toBeGreaterThan(0);
  });

  it('refuses unknown takes and reports damaged audio as take:audio-error', async () => {
    const log = new EventLog();
    const service = createTakeService(stores, log);
    await expect(service.streamTakeAudio('s', 99_999)).rejects.toMatchObject({ code: 'not-found', message: expect.stringContaining('Take 99999') });
    const take = putTestTake(stores, lineA(), 7, 1);
    // Flip bytes in the middle of the stored FLAC stream: the decoder or its MD5 check must notice.
    const db = new Database(join(stores.dir, TAKE_CACHE_FILE));
    const data = db.prepare<[number], Uint8Array>('SELECT data FROM take_audio WHERE take_id = ? AND seq = 0').pluck().get(take.id)!;
    const damaged = Uint8Array.from(data);
    for (let i = damaged.length >> 1; i < (damaged.length >> 1) + 64; i++) damaged[i] ^= 0x5a;
    db.prepare('UPDATE take_audio SET data = ? WHERE take_id = ? AND seq = 0').run(damaged, take.id);
    db.close();
    await service.streamTakeAudio('s-bad', take.id);
    const end = await log.next((e) => (e.type === 'take:audio' && e.last) || e.type === 'take:audio-error');
    expect(end).toMatchObject({ type: 'take:audio-error', streamId: 's-bad', error: { code: 'store-corrupt' } });
    expect(v.parse(AppEventSchema, end)).toEqual(end);
  });
});
