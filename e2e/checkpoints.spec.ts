/// <reference lib="dom" />
// Downloaded checkpoints in the Model panel through the browser harness: an unfinished download
// (config.json and a .part file, as an app closed mid-download leaves it) listed with its size and
// Resume, deleted after a confirmation naming what it frees; a model removed with the checkpoints
// only it was compiled from ("Also delete the checkpoints"), which leaves no folder behind. Opening
// the panel lists the checkpoints once, also when the model list cannot be read.
import { expect, test, type Locator, type Page } from '@playwright/test';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { importCheckpoint } from '../src-main/engine/models/import.ts';
import { checkpointsRoot } from '../src-main/engine/models/paths.ts';
import { ModelStore } from '../src-main/engine/models/store.ts';
import { installModel } from '../src-main/engine/runtime/install-model.ts';
import { E2E_DATA_DIR } from './harness-paths.ts';
import { openModelPanel } from './studio-helpers.ts';

const FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures', 'models');
const PARTIAL = 'e2e-owner--Dia-partial--main';
const MODEL = 'e2e-ckpt-model';
const OWN = ['e2e-ckpt-dac', 'e2e-ckpt-dia'];

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  const root = checkpointsRoot(E2E_DATA_DIR);
  for (const id of [PARTIAL, ...OWN]) rmSync(path.join(root, id), { recursive: true, force: true });
  await new ModelStore(E2E_DATA_DIR).remove(MODEL).catch(() => undefined);
  const partial = path.join(root, PARTIAL);
  mkdirSync(partial, { recursive: true });
  copyFileSync(path.join(FIXTURES, 'dia-tiny-b', 'config.json'), path.join(partial, 'config.json'));
  writeFileSync(path.join(partial, 'model.safetensors.part'), Buffer.alloc(3 * 1024 * 1024, 1));
  const [dac, dia] = await Promise.all([
    importCheckpoint({ sourceDir: path.join(FIXTURES, 'dac-tiny'), dataDir: E2E_DATA_DIR, id: OWN[0], mode: 'copy' }),
    importCheckpoint({ sourceDir: path.join(FIXTURES, 'dia-tiny-c'), dataDir: E2E_DATA_DIR, id: OWN[1], mode: 'copy' }),
  ]);
  await installModel(new ModelStore(E2E_DATA_DIR), { id: MODEL, diaDir: dia.dir, dacDir: dac.dir, precisions: ['fp32'], label: MODEL });
});

/**
 * Counts the page's listCheckpoints calls; with `failModels` every listModels call is answered
 * with an error instead of reaching the app.
 */
async function watchCalls(page: Page, failModels = false): Promise<{ checkpointListings: number }> {
  const seen = { checkpointListings: 0 };
  await page.routeWebSocket(/\/api$/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((message) => {
      const call = typeof message === 'string' ? (JSON.parse(message) as { id: number; method: string }) : null;
      if (call?.method === 'listCheckpoints') seen.checkpointListings++;
      if (failModels && call?.method === 'listModels') {
        ws.send(JSON.stringify({ t: 'reply', id: call.id, envelope: { ok: false, error: { code: 'io-failed', message: 'the models folder cannot be read' } } }));
      } else server.send(message);
    });
  });
  return seen;
}

const row = (panel: Locator, id: string): Locator => panel.locator(`[data-testid="checkpoint-item"][data-checkpoint-id="${id}"]`);

test('lists an unfinished download with its size and Resume, and deletes it after a confirmation', async ({ page }) => {
  const panel = await openModelPanel(page);
  const partial = row(panel, PARTIAL);
  await expect(partial.getByTestId('checkpoint-state')).toHaveText('download not finished');
  await expect(partial.getByTestId('checkpoint-facts')).toHaveText(/^Dia · e2e-owner\/Dia-partial@main · 3\.0 MB$/);
  await expect(partial.getByTestId('checkpoint-used-by')).toHaveText('No installed model was compiled from it');
  await expect(partial.getByRole('button', { name: 'Resume the download of e2e-owner/Dia-partial' })).toBeEnabled();
  await expect(row(panel, OWN[1]).getByTestId('checkpoint-used-by')).toHaveText(`Used by ${MODEL}`);

  const confirm = page.getByRole('dialog', { name: `Delete checkpoint ${PARTIAL}?` });
  await partial.getByRole('button', { name: `Delete checkpoint ${PARTIAL}…` }).click();
  await expect(confirm.getByTestId('checkpoint-remove-question')).toContainText(`frees 3.0 MB`);
  await expect(confirm.getByTestId('checkpoint-remove-question')).toContainText('What was downloaded so far is lost');
  await confirm.getByRole('button', { name: 'Keep' }).click();
  await expect(confirm).toBeHidden();
  expect(existsSync(path.join(checkpointsRoot(E2E_DATA_DIR), PARTIAL))).toBe(true);

  await partial.getByRole('button', { name: `Delete checkpoint ${PARTIAL}…` }).click();
  await confirm.getByRole('button', { name: 'Delete' }).click();
  await expect(confirm).toBeHidden();
  await expect(partial).toHaveCount(0);
  await expect(page.getByTestId('notices')).toContainText(`Deleted checkpoint ${PARTIAL} (3.0 MB freed).`);
  expect(existsSync(path.join(checkpointsRoot(E2E_DATA_DIR), PARTIAL))).toBe(false);
});

test('opening the Model panel lists the checkpoints once, after the models', async ({ page }) => {
  const seen = await watchCalls(page);
  const panel = await openModelPanel(page);
  await expect(row(panel, OWN[1]).getByTestId('checkpoint-used-by')).toHaveText(`Used by ${MODEL}`);
  // Time for a second listing to go out, were there one.
  await page.waitForTimeout(1_000);
  expect(seen.checkpointListings).toBe(1);
  await panel.getByRole('button', { name: 'Close the model panel' }).click();
  await page.getByRole('button', { name: 'Model…' }).click();
  await expect(panel).toBeVisible();
  await page.waitForTimeout(1_000);
  expect(seen.checkpointListings).toBe(2);
});

test('the checkpoints are listed when the model list cannot be read', async ({ page }) => {
  const seen = await watchCalls(page, true);
  await page.goto('/');
  await expect(page.getByTestId('engine-status')).not.toHaveText(/Connecting/);
  await page.getByRole('button', { name: 'Model…' }).click();
  const panel = page.getByRole('dialog', { name: 'Model' });
  await expect(panel).toContainText('Cannot list the installed models: the models folder cannot be read');
  await expect(row(panel, OWN[1]).getByTestId('checkpoint-used-by')).toHaveText(`Used by ${MODEL}`);
  await page.waitForTimeout(1_000);
  expect(seen.checkpointListings).toBe(1);
});

test('removes a model with the checkpoints only it was compiled from', async ({ page }) => {
  const panel = await openModelPanel(page);
  const model = panel.locator(`[data-testid="model-item"][data-model-id="${MODEL}"]`);
  const confirm = page.getByRole('dialog', { name: `Remove ${MODEL}?` });
  await model.getByRole('button', { name: `Remove ${MODEL}…` }).click();
  const also = confirm.getByTestId('model-remove-checkpoints');
  await expect(also).toContainText(`Also delete the checkpoints it was compiled from`);
  await expect(also).toContainText(OWN.join(', '));
  // Asked each time: ticked, then kept, the next time it starts unticked.
  await also.getByRole('checkbox').check();
  await confirm.getByRole('button', { name: 'Keep' }).click();
  await expect(confirm).toBeHidden();
  await model.getByRole('button', { name: `Remove ${MODEL}…` }).click();
  await expect(also.getByRole('checkbox')).not.toBeChecked();
  await also.getByRole('checkbox').check();
  await confirm.getByRole('button', { name: 'Remove' }).click();
  await expect(confirm).toBeHidden();
  await expect(model).toHaveCount(0);
  for (const id of OWN) await expect(row(panel, id)).toHaveCount(0);
  await expect(page.getByTestId('notices')).toContainText(`Removed ${MODEL} and its checkpoints`);
  for (const id of OWN) expect(existsSync(path.join(checkpointsRoot(E2E_DATA_DIR), id))).toBe(false);
});
