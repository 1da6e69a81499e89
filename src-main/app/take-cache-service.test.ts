// The take cache in Settings, on real SQLite stores in a temp folder: the size limit kept across
// restarts and applied at once, a damaged setting read as the default, clearing what no line chose.
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StudioBackend } from '../render/studio-backend.ts';
import { TAKE_CACHE_LIMIT_FILE } from '../render/take-cache-limit.ts';
import { DEFAULT_MAX_CACHE_BYTES } from '../store/take-store.ts';
import { removeTempDirs, sampleLine, tempDir } from '../store/testing.ts';
import { AppCore } from './app-core.ts';
import { putTestTake } from './store-test-support.ts';
import { createTakeCacheService } from './take-cache-service.ts';
import { unavailableEngine, unavailableExports, unavailableProjects, unavailableTakes, unavailableVoices } from './unavailable-services.ts';
import type { DialogService } from './services.ts';

const GB = 1024 ** 3;

afterAll(removeTempDirs);

async function openBackend(dataDir: string): Promise<StudioBackend> {
  return StudioBackend.open({ dataDir, engineChannel: () => { throw new Error('no engine in this test'); } });
}

const noDialogs: DialogService = {
  chooseModelFolder: async () => null,
  chooseCudaFolder: async () => null,
  chooseVoiceClip: async () => null,
  chooseProjectFile: async () => null,
  chooseExportTarget: async () => null,
};

/** The app core with only the take cache service: replies pass the API's validation. */
function coreOver(takes: StudioBackend['takes'], limitNote: string | null = null): AppCore {
  const reason = 'not in this test';
  return new AppCore({
    engine: unavailableEngine(reason),
    projects: unavailableProjects(reason),
    takes: { ...unavailableTakes(reason), ...createTakeCacheService(takes, limitNote) },
    voices: unavailableVoices(reason),
    exports: unavailableExports(reason),
    dialogs: noDialogs,
  }, { appName: 'Dia Studio', appVersion: '0', transport: 'web', platform: 'linux' });
}

describe('take cache service', () => {
  it('keeps the limit across restarts and opens the cache with it', async () => {
    const dataDir = tempDir('take-cache-limit-');
    const first = await openBackend(dataDir);
    // None saved yet: the default, and nothing to say about it.
    expect(await createTakeCacheService(first.takes).cacheInfo()).toMatchObject({ maxBytes: DEFAULT_MAX_CACHE_BYTES, limitNote: null });
    const { info } = await createTakeCacheService(first.takes).setCacheLimit(10 * GB);
    expect(info.maxBytes).toBe(10 * GB);
    await first.close();

    const again = await openBackend(dataDir);
    try {
      expect(again.takes.maxBytes).toBe(10 * GB);
      expect((await createTakeCacheService(again.takes).cacheInfo()).maxBytes).toBe(10 * GB);
    } finally {
      await again.close();
    }
  });

  for (const [name, content, why] of [
    ['not JSON', '{"maxBytes": 10737', 'it is not JSON'],
    ['a limit below the smallest', JSON.stringify({ maxBytes: 1000 }), 'maxBytes must be at least 0.25 GB'],
    ['a limit as text', JSON.stringify({ maxBytes: '10737418240' }), 'maxBytes must be a number of bytes'],
    ['no object', 'null', 'it holds no limit'],
  ] as const) {
    it(`opens with the default limit when the saved one is ${name}, and says so until a limit is set`, async () => {
      const dataDir = tempDir('take-cache-limit-');
      const first = await openBackend(dataDir);
      await first.close();
      const file = join(dataDir, 'cache', TAKE_CACHE_LIMIT_FILE);
      writeFileSync(file, content);
      const again = await openBackend(dataDir);
      try {
        expect(again.takes.maxBytes).toBe(DEFAULT_MAX_CACHE_BYTES);
        const service = createTakeCacheService(again.takes, again.limitNote);
        expect((await service.cacheInfo()).limitNote).toBe(`The saved size limit in ${file} could not be read (${why}); using 2.0 GB until you set one.`);
        expect((await service.setCacheLimit(DEFAULT_MAX_CACHE_BYTES)).info.limitNote).toBeNull();
        expect((await service.cacheInfo()).limitNote).toBeNull();
      } finally {
        await again.close();
      }
    });
  }

  it('says in words why a saved limit that cannot be read was not used', async () => {
    const dataDir = tempDir('take-cache-limit-');
    const first = await openBackend(dataDir);
    await first.close();
    const file = join(dataDir, 'cache', TAKE_CACHE_LIMIT_FILE);
    mkdirSync(file);
    const again = await openBackend(dataDir);
    try {
      expect(again.limitNote).toBe(`The saved size limit in ${file} could not be read (it is a folder, not a file); using 2.0 GB until you set one.`);
    } finally {
      await again.close();
    }
  });

  it('evicts unchosen takes down to a lower limit at once, keeping chosen ones', async () => {
    const dataDir = tempDir('take-cache-evict-');
    const backend = await openBackend(dataDir);
    try {
      const line = sampleLine();
      const chosen = putTestTake(backend, line, 1);
      backend.takes.chooseTake(line, chosen.id);
      const others = [2, 3, 4].map((seed) => putTestTake(backend, sampleLine({ lineId: `other-${seed}` }), seed));
      const service = createTakeCacheService(backend.takes);
      expect((await service.cacheInfo()).takeCount).toBe(4);

      // Room for the chosen take and the most recent other one only.
      const limit = chosen.flacBytes + others[2].flacBytes;
      const { evictedTakes, freedBytes, info } = await service.setCacheLimit(limit);
      expect({ evictedTakes, freedBytes }).toEqual({ evictedTakes: 2, freedBytes: others[0].flacBytes + others[1].flacBytes });
      expect(info.maxBytes).toBe(limit);
      expect(info.audioBytes).toBeLessThanOrEqual(limit);
      expect(backend.takes.getTake(chosen.id)).not.toBeNull();
      expect(backend.takes.getTake(others[0].id)).toBeNull();
      expect(backend.takes.getTake(others[2].id)).not.toBeNull();
      expect(info.takeCount).toBe(2);
    } finally {
      await backend.close();
    }
  });

  it('clears every take no line chose and says how much it freed', async () => {
    const dataDir = tempDir('take-cache-clear-');
    const backend = await openBackend(dataDir);
    try {
      const line = sampleLine();
      const chosen = putTestTake(backend, line, 1);
      backend.takes.chooseTake(line, chosen.id);
      const unused = [putTestTake(backend, line, 2), putTestTake(backend, sampleLine({ lineId: 'other' }), 3)];
      const service = createTakeCacheService(backend.takes);
      const before = await service.cacheInfo();
      expect(before).toMatchObject({ takeCount: 3, chosenCount: 1, audioBytes: chosen.flacBytes + unused[0].flacBytes + unused[1].flacBytes, pinnedBytes: chosen.flacBytes });

      const result = await service.clearUnused();
      expect(result.removed).toBe(2);
      expect(result.freedBytes).toBe(unused[0].flacBytes + unused[1].flacBytes);
      expect(result.info).toMatchObject({ takeCount: 1, chosenCount: 1, audioBytes: chosen.flacBytes, pinnedBytes: chosen.flacBytes });
      expect(backend.takes.readAudio(chosen.id).length).toBe(chosen.sampleCount);
    } finally {
      await backend.close();
    }
  });

  it('reports a damaged cache found at start: where the old file went', async () => {
    const dataDir = tempDir('take-cache-damaged-');
    const first = await openBackend(dataDir);
    const path = first.takes.path;
    await first.close();
    writeFileSync(path, 'this is not a database, it is a damaged file'.repeat(100));
    const again = await openBackend(dataDir);
    try {
      const info = await createTakeCacheService(again.takes).cacheInfo();
      expect(info.recovery).not.toBeNull();
      expect(info.recovery!.movedAsideTo).toContain('takes.sqlite.corrupt-');
      expect(info.recovery!.message).toContain(info.recovery!.movedAsideTo);
      expect(readFileSync(info.recovery!.movedAsideTo, 'utf8')).toContain('damaged file');
      expect(info.takeCount).toBe(0);
      expect(info.recovery!.announce).toBe(true);
    } finally {
      await again.close();
    }
  });

  it('announces a damaged cache found at start in one reply only: a reloaded page does not say it again', async () => {
    const dataDir = tempDir('take-cache-damaged-');
    const first = await openBackend(dataDir);
    const path = first.takes.path;
    await first.close();
    writeFileSync(path, 'damaged'.repeat(500));
    const again = await openBackend(dataDir);
    try {
      // Through the API: the flag passes its validation.
      const core = coreOver(again.takes);
      expect(await core.call('getTakeCache', undefined)).toMatchObject({ ok: true, value: { recovery: { announce: true } } });
      expect(await core.call('getTakeCache', undefined)).toMatchObject({ ok: true, value: { recovery: { announce: false } } });
      expect(await core.call('clearUnusedTakes', undefined)).toMatchObject({ ok: true, value: { info: { recovery: { announce: false } } } });
    } finally {
      await again.close();
    }
  });

  it('refuses a limit out of range through the API, naming it, and keeps the one set', async () => {
    const dataDir = tempDir('take-cache-api-');
    const backend = await openBackend(dataDir);
    try {
      const core = coreOver(backend.takes);
      for (const [maxBytes, words] of [[1024 ** 2, 'at least 0.25 GB'], [300 * GB, 'at most 200 GB'], [2.5, 'whole number']] as const) {
        const reply = await core.call('setTakeCacheLimit', { maxBytes });
        expect(reply.ok).toBe(false);
        if (!reply.ok) expect(reply.error).toMatchObject({ code: 'invalid-input', message: expect.stringContaining(words) });
      }
      const info = await core.call('getTakeCache', undefined);
      expect(info).toMatchObject({ ok: true, value: { maxBytes: DEFAULT_MAX_CACHE_BYTES, takeCount: 0, recovery: null } });
      const set = await core.call('setTakeCacheLimit', { maxBytes: GB / 2 });
      expect(set).toMatchObject({ ok: true, value: { evictedTakes: 0, freedBytes: 0, info: { maxBytes: GB / 2 } } });
    } finally {
      await backend.close();
    }
  });

  it('shortens an overlong note without cutting a character in half, so Settings can still read the cache', async () => {
    const backend = await openBackend(tempDir('take-cache-note-'));
    try {
      // A character outside the BMP (two UTF-16 units) right where the note is cut.
      const note = `${'x'.repeat(3_998)}\u{1F3A4}${'y'.repeat(100)}`;
      const reply = await coreOver(backend.takes, note).call('getTakeCache', undefined);
      expect(reply.ok).toBe(true);
      const shown = reply.ok ? (reply.value as { limitNote: string }).limitNote : '';
      expect(shown.length).toBeLessThanOrEqual(4_000);
      // No lone half of a pair: the shortened note ends before the character it could not keep whole.
      expect(shown).toMatch(/^x{3000,} … \(message shortened\)$/);
    } finally {
      await backend.close();
    }
  });
});
