/// <reference lib="dom" />
// A line whose audio ran to "Longest pass" before the model ended it (the random demo model never
// ends by itself, so a 1 s longest pass cuts every line) is marked in the line list and the Takes
// panel, with what to change, and still after a reload; the status text stays as it was.
import { expect, test } from '@playwright/test';
import { stopPlayback } from './playback-helpers.ts';
import { newProject, openStudio, renderLine, setMaxSeconds, typeScript } from './studio-helpers.ts';

test('marks a line cut at "Longest pass" in the line list and the Takes panel, across a reload', async ({ page }) => {
  test.setTimeout(120_000);
  const stamp = Date.now().toString(36);
  await openStudio(page);
  await newProject(page, `Cut ${stamp}`);
  await setMaxSeconds(page, '1');
  await typeScript(page, `[S1] A line far too long for one second of audio ${stamp}.\n[S2] Not rendered.`);
  const row = await renderLine(page, 0);
  await stopPlayback(page);
  await expect(row.getByTestId('line-status')).toHaveText('Fresh');
  const badge = row.getByTestId('line-cut');
  await expect(badge).toBeVisible();
  await expect(badge).toContainText('cut');
  await expect(badge).toHaveAttribute('title', /stops mid-way.*Raise "Longest pass" in Settings, or shorten the line/);
  await expect(page.getByTestId('line-row').nth(1).getByTestId('line-cut')).toHaveCount(0);
  const take = page.getByTestId('take-item');
  await expect(take).toHaveCount(1);
  await expect(take.getByTestId('take-cut')).toBeVisible();

  // The mark is stored with the take: a reload reads it from the take cache.
  await page.reload();
  await expect(row.getByTestId('line-status')).toHaveText('Cached');
  await expect(row.getByTestId('line-cut')).toBeVisible();
  await row.locator('.line-jump').click();
  await expect(take.getByTestId('take-cut')).toBeVisible();
});
