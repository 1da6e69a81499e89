// The app's first run on an empty data folder, through the real services: Render all's workers
// all ask for the model, which is built and loaded for them, and every line renders (the loads
// joining one another is checked in render/studio-backend.test.ts).
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppEvent, Project } from '../../src-shared/api.ts';
import { AppCore } from './app-core.ts';
import { composeServices } from './compose-services.ts';
import { AppEventHub } from './event-hub.ts';
import { workerChannel } from '../engine/host/worker-channel.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'first-run-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('first run', () => {
  it('renders every line of the first Render all in an empty data folder', async () => {
    const events = new AppEventHub();
    const services = await composeServices({ dataDir, engineHost: () => workerChannel(), dialogs: {} as never, events });
    try {
      const core = new AppCore(services, { appName: 'Dia Studio', appVersion: '0', transport: 'web', platform: 'linux' });
      const created = await core.call('createProject', { name: 'First' });
      if (!created.ok) throw new Error(created.error.message);
      const p = created.value as Project;
      const lines = Array.from({ length: 4 }, (_, i) => ({ id: `l${i}`, speaker: 'S1' as const, text: `Hello there number ${i}.` }));
      const settings = { ...p.settings, sampling: { ...p.settings.sampling, maxTokens: 60 } };
      const script = lines.map((l) => `[S1] ${l.text}`).join('\n');
      expect(await core.call('saveProject', { id: p.id, name: p.name, script, speakers: p.speakers, settings, lines })).toMatchObject({ ok: true });
      const errors: string[] = [];
      const done = new Promise<AppEvent>((resolve) => events.subscribe((e) => {
        if (e.type === 'render:error') errors.push(e.error.message);
        if (e.type === 'render:queue' && e.done) resolve(e);
      }));
      expect(await core.call('renderAll', { projectId: p.id, lineIds: lines.map((l) => l.id) })).toMatchObject({ ok: true });
      expect(await done).toMatchObject({ completed: 4, failed: 0 });
      expect(errors).toEqual([]);
    } finally {
      await services.close();
    }
  });
});
