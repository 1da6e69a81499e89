/// <reference lib="dom" />
// A take deleted while it plays, from the Takes panel or by Settings' "Clear unused takes":
// playback stops, and the waveform goes back to the line's take in use instead of showing (and
// offering to play from) audio that is gone, and an A/B comparison with it ends. A delete that
// fails leaves it playing, and compared.
import { expect, test, type Page } from '@playwright/test';
import { stopPlayback } from './playback-helpers.ts';
import { freshProject, notices, renderLine, setMaxSeconds } from './studio-helpers.ts';

/** A line with two long takes: the first stays in use, the second (unused) plays, compared A/B with the first. */
async function playUnusedTake(page: Page, name: string): Promise<{ keptId: string; doomedId: string }> {
  const stamp = Date.now().toString(36);
  await freshProject(page, `${name} ${stamp}`, `[S1] A take to delete while it plays ${stamp}.`);
  // Long takes (the demo model speaks until the longest pass): still playing when deleted.
  await setMaxSeconds(page, '8');
  await renderLine(page, 0);
  await stopPlayback(page);
  const takes = page.getByTestId('take-item');
  const keptId = (await takes.first().getAttribute('data-take-id'))!;
  await page.getByTestId('takes-new').click();
  await expect(takes).toHaveCount(2, { timeout: 90_000 });
  await stopPlayback(page);
  const doomed = page.locator(`[data-testid="take-item"]:not([data-take-id="${keptId}"])`);
  const doomedId = (await doomed.getAttribute('data-take-id'))!;
  await doomed.getByTestId('take-play').click();
  await expect(page.getByTestId('playback-status')).toContainText(`take ${doomedId}`);
  await expect(page.getByTestId('waveform')).toHaveAttribute('data-take-id', doomedId);
  await doomed.getByTestId('take-compare').click();
  await expect(page.getByTestId('ab-play-b')).toHaveText(`▶ B · take ${doomedId}`);
  return { keptId, doomedId };
}

/**
 * Playback has stopped, the A/B comparison with the deleted take is over (Alt+B has nothing to
 * switch), and the waveform shows the take in use and plays it from a point.
 */
async function expectStoppedOnKeptTake(page: Page, keptId: string, doomedId: string): Promise<void> {
  const status = page.getByTestId('playback-status');
  // Well before its 8 s are over.
  await expect(status).toHaveText('Not playing', { timeout: 2_000 });
  await expect(page.getByTestId('ab-bar')).toHaveCount(0);
  await page.keyboard.press('Alt+B');
  await expect(status).toHaveText('Not playing');
  await expect(page.getByTestId('waveform')).toHaveAttribute('data-take-id', keptId);
  await expect(page.getByTestId('waveform-caption')).not.toContainText(`take ${doomedId}`);
  // Playing from a point of the waveform plays the take that is there.
  await page.getByTestId('waveform-canvas').click({ position: { x: 20, y: 20 } });
  await expect(status).toContainText(`take ${keptId}`);
  await expect(notices(page)).not.toContainText('Cannot play');
  await stopPlayback(page);
}

test('deleting the take being played stops it, and the waveform shows the take in use again', async ({ page }) => {
  test.setTimeout(180_000);
  const { keptId, doomedId } = await playUnusedTake(page, 'Delete playing');
  const doomed = page.locator(`[data-testid="take-item"][data-take-id="${doomedId}"]`);
  await doomed.getByTestId('take-delete').click();
  await doomed.getByTestId('take-delete-confirm').click();
  await expect(page.getByTestId('take-item')).toHaveCount(1);
  await expectStoppedOnKeptTake(page, keptId, doomedId);
});

test('clearing unused takes in Settings stops the unused take being played', async ({ page }) => {
  test.setTimeout(180_000);
  const { keptId, doomedId } = await playUnusedTake(page, 'Clear playing');
  await page.getByTestId('settings-open').click();
  const section = page.getByTestId('settings-panel').getByTestId('take-cache');
  await section.getByTestId('take-cache-clear').click();
  await expect(page.getByTestId('playback-status')).toContainText(`take ${doomedId}`);
  await section.getByTestId('take-cache-confirm-yes').click();
  await expect(section.getByTestId('take-cache-confirm')).toHaveCount(0);
  await page.getByTestId('settings-close').click();
  await expect(page.getByTestId('take-item')).toHaveCount(1);
  await expectStoppedOnKeptTake(page, keptId, doomedId);
});

test('a delete that fails leaves the take playing', async ({ page }) => {
  test.setTimeout(180_000);
  // The app core refuses every deleteTake call (as when the cache cannot be written).
  await page.routeWebSocket(/\/api$/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((message) => {
      const call = typeof message === 'string' ? (JSON.parse(message) as { id: number; method: string }) : null;
      if (call?.method === 'deleteTake') ws.send(JSON.stringify({ t: 'reply', id: call.id, envelope: { ok: false, error: { code: 'io-failed', message: 'the take cache is read-only' } } }));
      else server.send(message);
    });
  });
  const { doomedId } = await playUnusedTake(page, 'Delete fails');
  const doomed = page.locator(`[data-testid="take-item"][data-take-id="${doomedId}"]`);
  await doomed.getByTestId('take-delete').click();
  await doomed.getByTestId('take-delete-confirm').click();
  await expect(notices(page)).toContainText(`Cannot delete take ${doomedId}: the take cache is read-only`);
  await expect(page.getByTestId('take-item')).toHaveCount(2);
  await expect(page.getByTestId('ab-play-b')).toHaveText(`▶ B · take ${doomedId}`);
  await expect(page.getByTestId('playback-status')).toContainText(`take ${doomedId}`);
  await expect(page.getByTestId('waveform')).toHaveAttribute('data-take-id', doomedId);
  await stopPlayback(page);
});
