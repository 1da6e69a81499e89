/// <reference lib="dom" />
// Auditioning through the browser harness with the tiny demo model: a line renders and plays as
// it streams through the AudioWorklet, shows its RTF, gets a second take that becomes the chosen
// one, and after a reload the project, its lines and both takes are still there.
import { expect, test, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';

const ARTIFACTS = 'e2e/artifacts';

interface AudioHook {
  receivedSamples: number;
  playedSamples: number;
}

function audioHook(page: Page): Promise<AudioHook | undefined> {
  return page.evaluate(() => (window as unknown as { __diaStudioAudio?: AudioHook }).__diaStudioAudio);
}

/** Counts samples of render:audio chunks arriving over the harness WebSocket. */
function countAudioFrames(page: Page): { chunks: number } {
  const seen = { chunks: 0 };
  page.on('websocket', (ws) => {
    ws.on('framereceived', (frame) => {
      const text = typeof frame.payload === 'string' ? frame.payload : frame.payload.toString('latin1');
      if (text.includes('render:audio')) seen.chunks++;
    });
  });
  return seen;
}

test.beforeAll(() => mkdirSync(ARTIFACTS, { recursive: true }));

test('renders a line, streams it to the worklet, keeps two takes across a reload', async ({ page }) => {
  test.setTimeout(120_000);
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  const frames = countAudioFrames(page);
  await page.goto('/');
  await expect(page.getByTestId('project-name')).not.toHaveText(/Opening/);
  await expect(page.getByTestId('project-name')).not.toHaveText('No project');

  // Unique text per run, so takes left by an earlier run in the same data folder do not count.
  const stamp = Date.now().toString(36);
  await page.locator('.cm-content').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(`[S1] Audition check ${stamp}, one two.\n[S2] And the answer ${stamp}.`);
  const rows = page.getByTestId('line-row');
  await expect(rows).toHaveCount(2);
  await expect(page.getByTestId('save-state')).toHaveText('Saved');

  // Play line 1 with its row button: a fresh render streams into the worklet.
  const first = rows.nth(0);
  await first.getByTestId('line-play').click();
  await expect(first).toHaveAttribute('data-status', /rendering|fresh/);
  await expect(first.getByTestId('line-status')).toHaveText('Fresh', { timeout: 60_000 });
  await expect.poll(async () => (await audioHook(page))?.receivedSamples ?? 0).toBeGreaterThan(0);
  await expect.poll(async () => (await audioHook(page))?.playedSamples ?? 0).toBeGreaterThan(0);
  expect(frames.chunks).toBeGreaterThan(0);
  await expect(first.getByTestId('line-rtf')).toHaveText(/^\d+\.\d\d$/);
  await expect(first.getByTestId('line-rtf')).toHaveAttribute('title', 'RTF (generation time ÷ audio duration, lower is better)');
  await expect(first.getByTestId('line-duration')).toHaveText(/^\d+\.\d s$/);
  await expect(first.getByTestId('line-ttfa')).not.toHaveText('');
  await expect(page.getByTestId('script-summary')).toContainText('1 of 2 rendered');
  await page.screenshot({ path: `${ARTIFACTS}/studio-audition.png` });

  // Esc stops playback.
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('playback-status')).toHaveText('Not playing');

  // The first take is the chosen one; a new take (Ctrl+Shift+Enter on the selected line) is not.
  // Takes of the current wording only: this run's lines may inherit ids (and takes) of lines an
  // earlier run left in the reopened project.
  const takes = page.locator('[data-testid="take-item"][data-current="true"]');
  await expect(takes).toHaveCount(1);
  await expect(takes.first()).toHaveAttribute('data-chosen', 'true');
  await page.keyboard.press('ControlOrMeta+Shift+Enter');
  await expect(takes).toHaveCount(2, { timeout: 60_000 });
  const newest = takes.first();
  const newestId = await newest.getAttribute('data-take-id');
  await expect(newest).toHaveAttribute('data-chosen', 'false');
  await newest.getByTestId('take-choose').click();
  await expect(page.locator(`[data-testid="take-item"][data-take-id="${newestId}"]`)).toHaveAttribute('data-chosen', 'true');
  await expect(page.locator('[data-testid="take-item"][data-chosen="true"]')).toHaveCount(1);
  await expect(takes.nth(1)).toHaveAttribute('data-chosen', 'false');

  // Playing a take from the cache goes through the same worklet.
  const before = (await audioHook(page))?.receivedSamples ?? 0;
  await takes.nth(1).getByTestId('take-play').click();
  await expect.poll(async () => (await audioHook(page))?.receivedSamples ?? 0).toBeGreaterThan(before);
  await page.keyboard.press('Escape');
  await page.screenshot({ path: `${ARTIFACTS}/studio-takes.png` });

  // Reload: the project reopens with the same lines, line 1 shows as cached with both takes.
  await page.reload();
  await expect(rows).toHaveCount(2);
  await expect(rows.getByTestId('line-text')).toHaveText([`Audition check ${stamp}, one two.`, `And the answer ${stamp}.`]);
  await expect(rows.nth(0).getByTestId('line-status')).toHaveText('Cached');
  await expect(rows.nth(1).getByTestId('line-status')).toHaveText(/not rendered/i);
  await rows.nth(0).locator('.line-jump').click();
  await expect(takes).toHaveCount(2);
  await expect(page.locator(`[data-testid="take-item"][data-take-id="${newestId}"]`)).toHaveAttribute('data-chosen', 'true');

  // Shortcut help.
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('?');
  await expect(page.getByTestId('shortcut-help')).toBeVisible();
  await expect(page.getByTestId('shortcut-help')).toContainText('Shift+Enter');
  await page.screenshot({ path: `${ARTIFACTS}/studio-shortcuts.png` });
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('shortcut-help')).toBeHidden();
  expect(problems).toEqual([]);
});

test('renders the whole script with progress', async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto('/');
  await expect(page.getByTestId('project-name')).not.toHaveText(/Opening/);
  const stamp = Date.now().toString(36);
  await page.locator('.cm-content').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(`[S1] Queue one ${stamp}.\n[S2] Queue two ${stamp}.\n[S1] Queue three ${stamp}.`);
  const rows = page.getByTestId('line-row');
  await expect(rows).toHaveCount(3);
  await page.getByTestId('render-all').click();
  await expect(page.getByTestId('render-all-progress')).toBeVisible();
  await expect(rows.getByTestId('line-status')).toHaveText(['Fresh', 'Fresh', 'Fresh'], { timeout: 90_000 });
  await expect(page.getByTestId('render-all')).toBeVisible();
  await expect(page.getByTestId('script-summary')).toContainText('3 of 3 rendered');
  // Run alone (-g), Render all is what loads the model: the header says so once it has.
  await expect(page.getByTestId('engine-status')).toHaveText('Ready');
  await page.screenshot({ path: `${ARTIFACTS}/studio-render-all.png` });
});

test('Render all keeps a line played before (fresh seeds) and renders the others', async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto('/');
  await expect(page.getByTestId('project-name')).not.toHaveText(/Opening/);
  const stamp = Date.now().toString(36);
  await page.locator('.cm-content').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(`[S1] Played first ${stamp}.\n[S2] Left to the queue ${stamp}.`);
  const rows = page.getByTestId('line-row');
  await expect(rows).toHaveCount(2);
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
  await rows.nth(0).getByTestId('line-play').click();
  await expect(rows.nth(0).getByTestId('line-status')).toHaveText('Fresh', { timeout: 60_000 });
  await page.keyboard.press('Escape');
  await rows.nth(0).locator('.line-jump').click();
  const takes = page.locator('[data-testid="take-item"][data-current="true"]');
  await expect(takes).toHaveCount(1);
  const played = await takes.first().getAttribute('data-take-id');

  await page.getByTestId('render-all').click();
  await expect(rows.getByTestId('line-status')).toHaveText(['Cached', 'Fresh'], { timeout: 90_000 });
  await expect(page.getByTestId('render-all')).toBeVisible();
  // Line 1 still has the one take it was played with.
  await rows.nth(0).locator('.line-jump').click();
  await expect(takes).toHaveCount(1);
  await expect(takes.first()).toHaveAttribute('data-take-id', played!);
});
