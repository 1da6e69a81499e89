/// <reference lib="dom" />
// Generation settings through the browser harness: they belong to the project they were set in
// (another project keeps its own, both survive switching and a reload), a refused value leaves the
// saved one in place, and "Characters per pass" drives the editor's warning on lines it will split.
import { expect, test, type Page } from '@playwright/test';
import { newProject, openStudio, typeScript } from './studio-helpers.ts';

async function openSettings(page: Page) {
  await page.getByTestId('settings-open').click();
  const panel = page.getByTestId('settings-panel');
  await expect(panel).toBeVisible();
  return panel;
}

async function closeSettings(page: Page): Promise<void> {
  await page.getByTestId('settings-close').click();
  await expect(page.getByTestId('settings-panel')).toBeHidden();
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
}

async function switchTo(page: Page, name: string): Promise<void> {
  await page.getByTestId('projects-open').click();
  const dialog = page.getByTestId('projects-dialog');
  await dialog.locator('[data-testid="project-item"]', { hasText: name }).getByTestId('project-open').click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('project-name')).toHaveText(name);
}

test('each project keeps its own settings across switching and a reload', async ({ page }) => {
  const stamp = Date.now().toString(36);
  await openStudio(page);
  await newProject(page, `Warm ${stamp}`);
  let panel = await openSettings(page);
  await panel.getByTestId('set-temp').fill('0.8');
  await panel.getByTestId('set-temp').press('Tab');
  await panel.getByTestId('set-carry-context').check();
  // Out of range: refused with the range, the field goes back to what is saved.
  await panel.getByTestId('set-max-seconds').fill('9999');
  await panel.getByTestId('set-max-seconds').press('Tab');
  await expect(panel.getByTestId('settings-errors')).toContainText(/Longest pass: must be [\d.]+ to [\d.]+ seconds/);
  await closeSettings(page);

  await newProject(page, `Default ${stamp}`);
  panel = await openSettings(page);
  await expect(panel.getByTestId('set-temp')).toHaveValue('1.2');
  await expect(panel.getByTestId('set-carry-context')).not.toBeChecked();
  await expect(panel.getByTestId('settings-errors')).toHaveCount(0);
  await closeSettings(page);

  await switchTo(page, `Warm ${stamp}`);
  panel = await openSettings(page);
  await expect(panel.getByTestId('set-temp')).toHaveValue('0.8');
  await expect(panel.getByTestId('set-carry-context')).toBeChecked();
  const saved = await panel.getByTestId('set-max-seconds').inputValue();
  expect(Number(saved)).toBeLessThan(9999);
  await closeSettings(page);

  await page.reload();
  await expect(page.getByTestId('project-name')).toHaveText(`Warm ${stamp}`);
  panel = await openSettings(page);
  await expect(panel.getByTestId('set-temp')).toHaveValue('0.8');
  await expect(panel.getByTestId('set-carry-context')).toBeChecked();
  await expect(panel.getByTestId('set-max-seconds')).toHaveValue(saved);
  await closeSettings(page);
});

test('a line longer than the characters per pass is flagged in the editor with the reason', async ({ page }) => {
  const stamp = Date.now().toString(36);
  await openStudio(page);
  await newProject(page, `Passes ${stamp}`);
  await typeScript(page, `[S1] Short ${stamp}.\n[S2] This line is rather longer than forty characters, so it is split ${stamp}.`);
  await expect(page.locator('.cm-lintRange-warning')).toHaveCount(0);

  let panel = await openSettings(page);
  await panel.getByTestId('set-pass-chars').fill('40');
  await panel.getByTestId('set-pass-chars').press('Tab');
  await closeSettings(page);
  await expect(page.locator('.cm-lintRange-warning')).toHaveCount(1);
  await page.locator('.cm-lintRange-warning').hover();
  await expect(page.locator('.cm-tooltip-hover')).toContainText("over this project's 40 characters per pass");

  panel = await openSettings(page);
  await page.getByTestId('settings-reset').click();
  await closeSettings(page);
  await expect(page.locator('.cm-lintRange-warning')).toHaveCount(0);
});
