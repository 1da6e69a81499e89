// Offline reuse, as a user lives it: render a project's lines with a model, close the app, remove
// every installed model, reopen, and still play (stream the chosen takes) and export the project.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppEvent } from '../../src-shared/api.ts';
import { StudioBackend } from '../render/studio-backend.ts';
import { installModel } from '../engine/runtime/install-model.ts';
import { RenderService } from './render-service.ts';
import { createProjectService } from './project-service.ts';
import { createTakeService } from './take-service.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURES = join(ROOT, 'fixtures', 'models');

function until(events: AppEvent[], pred: (e: AppEvent) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = (): void => (events.some(pred) ? resolve() : Date.now() - started > 60_000 ? reject(new Error('timed out')) : void setTimeout(poll, 20));
    poll();
  });
}

describe('offline reuse', () => {
  it('plays and exports rendered takes after the models are gone', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'offline-'));
    const events: AppEvent[] = [];
    const sink = { emit: (e: AppEvent) => void events.push(e) };
    let backend = await StudioBackend.open({ dataDir, device: 'cpu' });
    await installModel(backend.models, { id: 'tiny', diaDir: join(FIXTURES, 'dia-tiny-c'), dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'] });
    await backend.models.setDefault('tiny');
    const projects = createProjectService(backend);
    const p = await projects.createProject('Offline show');
    const settings = { ...p.settings, sampling: { ...p.settings.sampling, maxTokens: 100 }, seed: 5 };
    await projects.saveProject({ id: p.id, name: p.name, script: '[S1] One.\n[S2] Two.', speakers: p.speakers, settings, lines: [{ id: 'a', speaker: 'S1', text: 'One.' }, { id: 'b', speaker: 'S2', text: 'Two.' }] });
    const renders = new RenderService(backend, sink);
    await renders.renderAll('q', [{ lineId: 'a', renderId: 'ra' }, { lineId: 'b', renderId: 'rb' }], { projectId: p.id, lineIds: ['a', 'b'] });
    await until(events, (e) => e.type === 'render:queue' && e.done);
    await backend.close();

    await rm(join(dataDir, 'models'), { recursive: true, force: true });
    await rm(join(dataDir, 'checkpoints'), { recursive: true, force: true });
    backend = await StudioBackend.open({ dataDir, device: 'cpu' });
    try {
      expect(await backend.models.list()).toEqual([]);
      const takes = createTakeService(backend, sink);
      const chosen = backend.takes.chosenTake({ projectId: p.id, lineId: 'a', text: 'One.' }, 'S1');
      expect(chosen).not.toBeNull();
      await takes.streamTakeAudio('play', chosen!.id);
      await until(events, (e) => e.type === 'take:audio' && e.streamId === 'play' && e.last);
      const played = events.filter((e): e is Extract<AppEvent, { type: 'take:audio' }> => e.type === 'take:audio' && e.streamId === 'play');
      expect(played.reduce((n, e) => n + e.samples.length, 0)).toBe(chosen!.sampleCount);
    } finally {
      await backend.close();
    }
    const out = join(dataDir, 'export');
    await run(process.execPath, [join(ROOT, 'src-main', 'cli', 'export.ts'), 'Offline show', '--out', out, '--data-dir', dataDir, '--kind', 'mix', '--format', 'wav16', '--loudness', 'off']);
    expect((await readdir(out)).some((f) => f.endsWith('.wav'))).toBe(true);
    await rm(dataDir, { recursive: true, force: true });
  });
});
