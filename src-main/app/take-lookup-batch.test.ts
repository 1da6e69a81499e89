// The take cache read and written for many lines at once (saves and exports of long scripts):
// the batched calls give exactly what the per-line ones give, line by line.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorOf } from '../../src-shared/testing/app-errors.ts';
import { removeTempDirs } from '../store/testing.ts';
import type { LineRef } from '../store/types.ts';
import { findTakeInUse, findTakesInUse, keepCacheChoices } from './current-take.ts';
import { openTestStores, putTestTake, type TestStores } from './store-test-support.ts';

afterAll(removeTempDirs);

let stores: TestStores;
beforeEach(async () => {
  stores = await openTestStores();
});
afterEach(() => stores.close());

const line = (lineId: string, text: string, projectId = 'p1'): LineRef => ({ projectId, lineId, text });

/**
 * Lines with no take, one take, several takes, takes of earlier words chosen for those words, a
 * take chosen for another speaker, one take shared by two lines, and the same line id in another project.
 */
function fixture() {
  const { takes } = stores;
  const one = putTestTake(stores, line('one', 'One.'), 1);
  const severalOld = putTestTake(stores, line('several', 'Several.'), 2);
  const severalNew = putTestTake(stores, line('several', 'Several.'), 3);
  // 'edited' said 'Before.' (take chosen), now says 'After.' with two takes; the older one chosen.
  const before = putTestTake(stores, line('edited', 'Before.'), 4);
  takes.chooseTake(line('edited', 'Before.'), before.id);
  const afterOld = putTestTake(stores, line('edited', 'After.'), 5);
  putTestTake(stores, line('edited', 'After.'), 6);
  takes.chooseTake(line('edited', 'After.'), afterOld.id);
  const otherSpeaker = putTestTake(stores, line('voiced', 'Voiced.'), 7, 0.5, 'S2');
  takes.chooseTake(line('voiced', 'Voiced.'), otherSpeaker.id);
  putTestTake(stores, line('voiced', 'Voiced.'), 8);
  takes.useTake(one.key, line('shared', 'One.'));
  putTestTake(stores, line('one', 'One.', 'p2'), 9);
  return { one, severalOld, severalNew, before, afterOld, otherSpeaker };
}

const LINES = [
  { id: 'none', text: 'Nothing yet.', speaker: 'S1' },
  { id: 'one', text: 'One.', speaker: 'S1' },
  { id: 'several', text: 'Several.', speaker: 'S1' },
  { id: 'edited', text: 'After.', speaker: 'S1' },
  { id: 'voiced', text: 'Voiced.', speaker: 'S1' },
  { id: 'shared', text: 'One.', speaker: 'S1' },
];

describe('the take cache for many lines at once', () => {
  it('lists each line\'s takes as listTakes does, in one query', () => {
    fixture();
    const ids = [...LINES.map((l) => l.id), 'unknown'];
    const batch = stores.takes.listTakesOfLines('p1', ids);
    for (const l of LINES) {
      const single = stores.takes.listTakes(line(l.id, l.text));
      expect(batch.get(l.id) ?? [], l.id).toEqual(single);
    }
    expect(batch.has('none')).toBe(false);
    expect(batch.has('unknown')).toBe(false);
    expect(batch.get('several')?.length).toBe(2);
    // Chosen per wording: 'edited' lists its 'Before.' choice and its 'After.' choice as chosen.
    expect(batch.get('edited')?.filter((t) => t.chosen).map((t) => t.lineText).sort()).toEqual(['After.', 'Before.']);
    expect(stores.takes.listTakesOfLines('p2', ['one']).get('one')).toHaveLength(1);
    expect(stores.takes.listTakesOfLines('p1', []).size).toBe(0);
    expect(errorOf(() => stores.takes.listTakesOfLines('p1', ['ok', ''])).code).toBe('invalid-input');
  });

  it('finds each line\'s take in use as findTakeInUse does', () => {
    const t = fixture();
    const batch = findTakesInUse(stores.takes, 'p1', LINES);
    for (const l of LINES) expect(batch.get(l.id)?.id, l.id).toBe(findTakeInUse(stores.takes, line(l.id, l.text), l.speaker)?.id);
    expect(Object.fromEntries([...batch].map(([id, take]) => [id, take.id]))).toEqual({
      one: t.one.id, several: t.severalNew.id, edited: t.afterOld.id, voiced: expect.any(Number), shared: t.one.id,
    });
    expect(batch.get('voiced')?.id).not.toBe(t.otherSpeaker.id);
    // Spoken by S2, 'voiced' has its chosen take in use again.
    expect(findTakesInUse(stores.takes, 'p1', [{ id: 'voiced', text: 'Voiced.', speaker: 'S2' }]).get('voiced')?.id).toBe(t.otherSpeaker.id);
  });

  it('records many choices in one write as chooseTake does, and says which takes were gone', () => {
    const t = fixture();
    const gone = putTestTake(stores, line('gone', 'Gone.'), 10);
    stores.takes.deleteTake(gone.id);
    const missed = keepCacheChoices(stores.takes, [
      { line: line('several', 'Several.'), take: { ...stores.takes.listTakes(line('several', 'Several.'))[0] } },
      { line: line('gone', 'Gone.'), take: { ...stores.takes.listTakes(line('one', 'One.'))[0], id: gone.id } },
      { line: line('shared', 'One.'), take: stores.takes.listTakes(line('shared', 'One.'))[0] },
    ]);
    expect(missed).toEqual([line('gone', 'Gone.')]);
    expect(stores.takes.chosenTake(line('several', 'Several.'), 'S1')?.id).toBe(t.severalOld.id);
    expect(stores.takes.chosenTake(line('shared', 'One.'), 'S1')?.id).toBe(t.one.id);
    expect(stores.takes.listTakes(line('gone', 'Gone.'))).toEqual([]);
    // The single call still refuses a take that is not there.
    expect(errorOf(() => stores.takes.chooseTake(line('gone', 'Gone.'), gone.id)).code).toBe('not-found');
  });
});
