// Render all's time estimate on the tiny fixtures: the real project store, take cache and engine
// host, with the engine's answer held back a fixed time so the queue's timing is known.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppEvent } from '../../src-shared/api.ts';
import { StudioBackend } from '../render/studio-backend.ts';
import { installModel } from '../engine/runtime/install-model.ts';
import { DEFAULT_RENDER_SETTINGS } from '../render/defaults.ts';
import { RenderService } from './render-service.ts';
import type { Project } from '../store/types.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'models');
/** How long each engine render is held before it starts: the queue's time is mostly this. */
const ENGINE_DELAY_MS = 1500;
let dataDir: string;
let backend: StudioBackend;
let settings: Project['settings'];
const events: AppEvent[] = [];
/** Event arrival times (ms, performance.now), same order as `events`. */
const times: number[] = [];
const sink = { emit: (e: AppEvent) => void (events.push(e), times.push(performance.now())) };
let delayed = false;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'render-queue-'));
  backend = await StudioBackend.open({ dataDir, device: 'cpu' });
  await installModel(backend.models, { id: 'tiny', diaDir: join(FIXTURES, 'dia-tiny-b'), dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'] });
  await backend.models.setDefault('tiny');
  settings = { ...DEFAULT_RENDER_SETTINGS('0626'), seed: 42, carryContext: false, modelId: 'tiny' };
  settings.sampling.maxTokens = 60;
  const render = backend.engine.render.bind(backend.engine);
  backend.engine.render = async (job, listener, signal) => {
    if (delayed) await new Promise((resolve) => setTimeout(resolve, ENGINE_DELAY_MS));
    return render(job, listener, signal);
  };
});

afterAll(async () => {
  await backend.close();
  await rm(dataDir, { recursive: true, force: true });
});

function queueEvents(queueId: string): { eta: number | null; at: number; done: boolean }[] {
  return events.flatMap((e, i) => (e.type === 'render:queue' && e.queueId === queueId ? [{ eta: e.etaSeconds, at: times[i], done: e.done }] : []));
}

async function runQueue(service: RenderService, queueId: string, p: Project): Promise<void> {
  const renders = p.lines.map((l) => ({ lineId: l.id, renderId: `${queueId}-${l.id}` }));
  await service.renderAll(queueId, renders, { projectId: p.id, lineIds: p.lines.map((l) => l.id) });
  await expect.poll(() => queueEvents(queueId).some((e) => e.done), { timeout: 60_000, interval: 20 }).toBe(true);
}

it('estimates Render all from the lines it generates, not from lines the take cache answered at once', async () => {
  const lines = ['One.', 'Two.', 'Three.', 'Four.', 'Five.', 'Six.'].map((text, i) => ({ id: `l${i}`, speakerId: 'S1', text, chosenTake: null }));
  const created = backend.projects.createProject('Cached first', settings);
  const p = backend.projects.saveProject({ ...created, speakers: [{ id: 'S1', name: 'Ana', color: '#1f77b4', voicePrompt: null }], lines });
  const service = new RenderService(backend, sink);
  // The first two lines in the take cache: Render all replays them in milliseconds.
  await runQueue(service, 'warm', { ...p, lines: p.lines.slice(0, 2) });
  delayed = true;
  try {
    await runQueue(service, 'main', p);
  } finally {
    delayed = false;
  }
  const reports = queueEvents('main');
  const end = reports.find((r) => r.done)!.at;
  // Every line still to generate takes ENGINE_DELAY_MS or more: an estimate given while any is
  // left must not promise the queue ends in a fraction of that.
  for (const r of reports.filter((x) => !x.done && x.eta !== null && end - x.at > ENGINE_DELAY_MS)) {
    expect(r.eta! * 1000).toBeGreaterThan(ENGINE_DELAY_MS / 2);
  }
});
