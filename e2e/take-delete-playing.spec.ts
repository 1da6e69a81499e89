/// <reference lib="dom" />
// A take deleted while it plays: playback stops, and the waveform goes back to the line's take in
// use instead of showing (and offering to play from) audio that is gone.
import { expect, test } from '@playwright/test';
import { stopPlayback } from './playback-helpers.ts';
import { freshProject, notices, renderLine, setMaxSeconds } from './studio-helpers.ts';

test('deleting the take being played stops it, and the waveform shows the take in use again', async ({ page }) => {
  test.setTimeout(180_000);
  const stamp = Date.now().toString(36);
  await freshProject(page, `Delete playing ${stamp}`, `[S1] A take to delete while it plays ${stamp}.`);
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

  const status = page.getByTestId('playback-status');
  await doomed.getByTestId('take-play').click();
  await expect(status).toContainText(`take ${doomedId}`);
  await expect(page.getByTestId('waveform')).toHaveAttribute('data-take-id', doomedId);
  await doomed.getByTestId('take-delete').click();
  await doomed.getByTestId('take-delete-confirm').click();
  await expect(takes).toHaveCount(1);
  // Well before its 8 s are over.
  await expect(status).toHaveText('Not playing', { timeout: 2_000 });
  const waveform = page.getByTestId('waveform');
  await expect(waveform).toHaveAttribute('data-take-id', keptId);
  await expect(page.getByTestId('waveform-caption')).not.toContainText(`take ${doomedId}`);
  // Playing from a point of the waveform plays the take that is there.
  await page.getByTestId('waveform-canvas').click({ position: { x: 20, y: 20 } });
  await expect(status).toContainText(`take ${keptId}`);
  await expect(notices(page)).not.toContainText('Cannot play');
  await stopPlayback(page);
});
