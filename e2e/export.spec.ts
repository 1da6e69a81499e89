/// <reference lib="dom" />
// Export from the UI through the browser harness: render a line with the demo model, open the
// export panel, export a loudness-normalised mixdown, and find the file in the harness's export
// folder (the harness stands in for the save dialog; the page never sends a path).
import { expect, test } from '@playwright/test';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { E2E_DATA_DIR } from './harness-paths.ts';

test('exports the chosen takes as a mixdown from the export panel', async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto('/');
  await expect(page.getByTestId('project-name')).not.toHaveText(/Opening/);
  const stamp = Date.now().toString(36);
  await page.locator('.cm-content').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(`[S1] Export check ${stamp}.`);
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
  const row = page.getByTestId('line-row').nth(0);
  await row.getByTestId('line-play').click();
  await expect(row.getByTestId('line-status')).toHaveText(/Fresh|Cached/, { timeout: 60_000 });

  await page.getByTestId('export-open').click();
  await page.getByTestId('export-kind').selectOption('mix');
  await page.getByTestId('export-format').selectOption('wav16');
  await page.getByTestId('export-loudness').selectOption('-16');
  await page.getByTestId('export-start').click();
  await expect(page.getByTestId('export-result')).toHaveText(/Wrote 1 file to /, { timeout: 60_000 });
  const name = (await page.getByTestId('export-result').textContent())!.replace(/^Wrote 1 file to /, '').trim();
  const file = join(E2E_DATA_DIR, 'exports', name);
  expect(statSync(file).size).toBeGreaterThan(44);
  expect(readdirSync(join(E2E_DATA_DIR, 'exports')).length).toBeGreaterThan(0);
  await page.screenshot({ path: 'e2e/artifacts/studio-export.png' });
});
