/// <reference lib="dom" />
// Projects through the browser harness: create one, write in it, rename it, switch to another
// project and back (each keeps its own script), save it as a .diaproj file and open that file
// (takes travel with it), delete projects with a confirmation.
import { expect, test } from '@playwright/test';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { E2E_DATA_DIR, PROJECT_FILE } from './harness-paths.ts';
import { stopPlayback } from './playback-helpers.ts';
import { editorText } from './studio-helpers.ts';

const ARTIFACTS = 'e2e/artifacts';

test.beforeAll(() => mkdirSync(ARTIFACTS, { recursive: true }));

test('creates, renames, switches and deletes projects', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('project-name')).not.toHaveText(/Opening/);
  const before = (await page.getByTestId('project-name').textContent())!.trim();
  const beforeText = await editorText(page);
  const stamp = Date.now().toString(36);

  // Create a project: the editor starts empty; what is typed is saved in it.
  await page.getByTestId('projects-open').click();
  const dialog = page.getByTestId('projects-dialog');
  await expect(dialog).toBeVisible();
  await dialog.getByTestId('project-new-name').fill(`Interview ${stamp}`);
  await dialog.getByTestId('project-create').click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('project-name')).toHaveText(`Interview ${stamp}`);
  await expect(page.getByTestId('line-row')).toHaveCount(0);
  await page.locator('.cm-content').click();
  await page.keyboard.type(`[S1] Welcome to the show ${stamp}.\n[S2] Glad to be here.`);
  await expect(page.getByTestId('line-row')).toHaveCount(2);
  await expect(page.getByTestId('save-state')).toHaveText('Saved');

  // Rename it.
  await page.getByTestId('projects-open').click();
  await dialog.getByTestId('project-rename').fill(`Interview ${stamp} (final)`);
  await dialog.getByTestId('project-rename').press('Enter');
  await expect(page.getByTestId('project-name')).toHaveText(`Interview ${stamp} (final)`);
  await page.screenshot({ path: `${ARTIFACTS}/studio-projects.png` });
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('save-state')).toHaveText('Saved');

  // Switch to the project that was open before, and back: each keeps its own script.
  await page.getByTestId('projects-open').click();
  await dialog.locator('[data-testid="project-item"]', { hasText: before }).first().getByTestId('project-open').click();
  await expect(page.getByTestId('project-name')).toHaveText(before);
  await expect.poll(() => editorText(page)).toBe(beforeText);
  await page.getByTestId('projects-open').click();
  const mine = dialog.locator('[data-testid="project-item"]', { hasText: `Interview ${stamp} (final)` });
  await expect(mine).toContainText('2 lines');
  await mine.getByTestId('project-open').click();
  await expect(page.getByTestId('project-name')).toHaveText(`Interview ${stamp} (final)`);
  await expect.poll(() => editorText(page)).toContain(`Welcome to the show ${stamp}.`);

  // A reload reopens the most recently edited project: this one.
  await page.reload();
  await expect(page.getByTestId('project-name')).toHaveText(`Interview ${stamp} (final)`);

  // Save it as a file with its take, and open that file: a copy, line 1 cached from the file.
  await page.getByTestId('line-row').nth(0).getByTestId('line-play').click();
  await expect(page.getByTestId('line-row').nth(0).getByTestId('line-status')).toHaveText('Fresh', { timeout: 60_000 });
  await stopPlayback(page);
  await page.getByTestId('projects-open').click();
  await dialog.getByTestId('project-file-save').click();
  const savedNotice = page.getByText(/^Saved .*\.diaproj: 1 takes, 0 voice prompts\.$/);
  await expect(savedNotice).toBeVisible();
  const fileName = (await savedNotice.textContent())!.match(/^Saved (.*\.diaproj):/)![1];
  copyFileSync(join(E2E_DATA_DIR, 'exports', fileName), PROJECT_FILE);
  await dialog.getByTestId('project-file-open').click();
  await expect(dialog).toBeHidden();
  await expect(page.getByText(/with 1 takes \(as a copy/)).toBeVisible();
  await expect(page.getByTestId('project-name')).toHaveText(`Interview ${stamp} (final)`);
  await expect.poll(() => editorText(page)).toContain(`Welcome to the show ${stamp}.`);
  await expect(page.getByTestId('line-row').nth(0).getByTestId('line-status')).toHaveText('Cached');
  await page.getByTestId('projects-open').click();
  const copies = dialog.locator('[data-testid="project-item"]', { hasText: `Interview ${stamp} (final)` });
  await expect(copies).toHaveCount(2);
  const copy = copies.filter({ has: page.locator('.badge') });
  await copy.getByTestId('project-delete').click();
  await copy.getByTestId('project-delete-confirm').click();
  await expect(copies).toHaveCount(1);
  await page.keyboard.press('Escape');

  // Delete it (asks first); the studio moves to another project.
  await page.getByTestId('projects-open').click();
  await mine.getByTestId('project-delete').click();
  await expect(mine).toContainText('Its takes stay in the cache');
  await mine.getByTestId('project-delete-confirm').click();
  await expect(mine).toHaveCount(0);
  await expect(page.getByTestId('project-name')).not.toHaveText(`Interview ${stamp} (final)`);
  await page.keyboard.press('Escape');
});
