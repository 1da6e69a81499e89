/// <reference lib="dom" />
// Projects keep the user's work when something goes wrong, through the browser harness: edits that
// cannot be saved (the project was deleted in another window) block leaving until the user picks
// what happens to them; edits typed just before the window closes are kept; a refused rename
// keeps the old name; a damaged .diaproj file is refused with a clear message and the open
// project, its script and the project list stay as they were.
import { expect, test, type Page } from '@playwright/test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { E2E_DATA_DIR, PROJECT_FILE } from './harness-paths.ts';
import { editorText, newProject, notices, openStudio, typeScript } from './studio-helpers.ts';

const EXPORTS = join(E2E_DATA_DIR, 'exports');

/**
 * Opens the studio in a second window (which reopens the most recent project, the one `name`),
 * deletes project `name` there, and closes that window: "deleted elsewhere".
 */
async function deleteInAnotherWindow(page: Page, name: string): Promise<void> {
  const other = await page.context().newPage();
  await openStudio(other);
  await other.getByTestId('projects-open').click();
  const item = other.getByTestId('projects-dialog').locator('[data-testid="project-item"]', { hasText: name });
  await expect(item).toHaveCount(1);
  await item.getByTestId('project-delete').click();
  await item.getByTestId('project-delete-confirm').click();
  await expect(item).toHaveCount(0);
  await other.close();
}

/** A project whose next edits cannot be saved: it is deleted elsewhere after its first save. */
async function projectDeletedElsewhere(page: Page, name: string): Promise<void> {
  await openStudio(page);
  await newProject(page, name);
  await typeScript(page, '[S1] Saved before the delete.');
  await deleteInAnotherWindow(page, name);
  await page.locator('.cm-content').click();
  await page.keyboard.press('ControlOrMeta+End');
  await page.keyboard.type('\n[S2] Typed after the delete.');
  await expect(page.getByTestId('save-state')).toHaveText('Not saved');
  await expect(notices(page)).toContainText(`Saving ${name} failed`);
}

test('edits a save refused are kept as a new project when the user says so', async ({ page }) => {
  const name = `Doomed ${Date.now().toString(36)}`;
  await projectDeletedElsewhere(page, name);

  // Creating another project would drop the edits: refused, with the choices, and nothing moves.
  await page.getByTestId('projects-open').click();
  const dialog = page.getByTestId('projects-dialog');
  await dialog.getByTestId('project-new-name').fill(`${name} next`);
  await dialog.getByTestId('project-create').click();
  await expect(dialog.getByTestId('projects-error')).toContainText(`latest edits of "${name}" could not be saved (the project was deleted elsewhere)`);
  await expect(dialog).toBeVisible();
  await expect(page.getByTestId('project-name')).toHaveText(name);
  await expect.poll(() => editorText(page)).toContain('Typed after the delete.');
  const unsaved = dialog.getByTestId('projects-unsaved');
  await expect(unsaved.getByTestId('project-unsaved-retry')).toBeVisible();
  await expect(unsaved.getByTestId('project-unsaved-discard')).toBeVisible();

  // Trying again cannot help (the project is gone): still refused, still there.
  await unsaved.getByTestId('project-unsaved-retry').click();
  await expect(dialog.getByTestId('projects-error')).toContainText('could not be saved');
  await expect(page.getByTestId('project-name')).toHaveText(name);

  // Save them as a new project: every line typed is in it, saved, and survives a reload.
  await unsaved.getByTestId('project-unsaved-save-new').click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('project-name')).toHaveText(`${name} (recovered)`);
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
  await expect(page.getByTestId('line-row').getByTestId('line-text')).toHaveText(['Saved before the delete.', 'Typed after the delete.']);
  await page.reload();
  await expect(page.getByTestId('project-name')).toHaveText(`${name} (recovered)`);
  await expect.poll(() => editorText(page)).toBe('[S1] Saved before the delete.\n[S2] Typed after the delete.');
  // The project the user was refused to create was not made behind their back.
  await page.getByTestId('projects-open').click();
  await expect(dialog.locator('[data-testid="project-item"]', { hasText: `${name} next` })).toHaveCount(0);
});

test('leaving without the edits a save refused opens the other project', async ({ page }) => {
  const stamp = Date.now().toString(36);
  await openStudio(page);
  await newProject(page, `Destination ${stamp}`);
  await typeScript(page, `[S1] The destination ${stamp}.`);
  const name = `Abandoned ${stamp}`;
  await projectDeletedElsewhere(page, name);

  await page.getByTestId('projects-open').click();
  const dialog = page.getByTestId('projects-dialog');
  const destination = dialog.locator('[data-testid="project-item"]', { hasText: `Destination ${stamp}` });
  await destination.getByTestId('project-open').click();
  await expect(dialog.getByTestId('projects-error')).toContainText(`Cannot open the project: the latest edits of "${name}" could not be saved`);
  await expect(page.getByTestId('project-name')).toHaveText(name);

  await dialog.getByTestId('project-unsaved-discard').click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('project-name')).toHaveText(`Destination ${stamp}`);
  await expect.poll(() => editorText(page)).toBe(`[S1] The destination ${stamp}.`);
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
  await expect(notices(page)).toContainText(`Left "${name}" without its unsaved edits.`);
});

test('edits typed just before the window reloads or closes are kept', async ({ page }) => {
  const name = `Hasty ${Date.now().toString(36)}`;
  await openStudio(page);
  await newProject(page, name);
  await typeScript(page, '[S1] Saved.');
  // Well within the autosave's delay: only the save on leaving the page can keep these.
  await page.keyboard.type(' Typed just before a reload.');
  await page.reload();
  await expect(page.getByTestId('project-name')).toHaveText(name);
  await expect.poll(() => editorText(page)).toBe('[S1] Saved. Typed just before a reload.');

  await page.locator('.cm-content').click();
  await page.keyboard.press('ControlOrMeta+End');
  await page.keyboard.type(' And before closing.');
  const context = page.context();
  await page.close({ runBeforeUnload: true });
  const again = await context.newPage();
  await openStudio(again);
  await expect(again.getByTestId('project-name')).toHaveText(name);
  await expect.poll(() => editorText(again)).toBe('[S1] Saved. Typed just before a reload. And before closing.');
});

test('a refused rename keeps the name; a name is trimmed and kept; Keep backs out of a delete', async ({ page }) => {
  const name = `Renamed ${Date.now().toString(36)}`;
  await openStudio(page);
  await newProject(page, `${name} draft`);
  await page.getByTestId('projects-open').click();
  const dialog = page.getByTestId('projects-dialog');
  const field = dialog.getByTestId('project-rename');
  await field.fill('   ');
  await field.press('Enter');
  await expect(dialog.getByRole('alert')).toHaveText('A project needs a name');
  await expect(field).toHaveAttribute('aria-invalid', 'true');
  await expect(field).toHaveValue(`${name} draft`);
  await expect(page.getByTestId('project-name')).toHaveText(`${name} draft`);

  await field.fill(`  ${name}  `);
  await field.press('Enter');
  await expect(field).toHaveValue(name);
  await expect(dialog.getByRole('alert')).toHaveCount(0);
  await expect(page.getByTestId('project-name')).toHaveText(name);
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
  await page.reload();
  await expect(page.getByTestId('project-name')).toHaveText(name);
  await page.getByTestId('projects-open').click();
  const item = dialog.locator('[data-testid="project-item"]', { hasText: name });
  await expect(item).toHaveCount(1);

  // Delete asks first; Keep backs out and the project stays open.
  await item.getByTestId('project-delete').click();
  await expect(item).toContainText(`Delete “${name}”?`);
  await item.getByRole('button', { name: 'Keep' }).click();
  await expect(item.getByTestId('project-delete-confirm')).toHaveCount(0);
  await page.keyboard.press('Escape');
  await page.reload();
  await expect(page.getByTestId('project-name')).toHaveText(name);
});

test('a damaged .diaproj file is refused with a clear message and nothing is lost', async ({ page }) => {
  const stamp = Date.now().toString(36);
  await openStudio(page);
  await newProject(page, `Safe ${stamp}`);
  const script = `[S1] Nothing here may be lost ${stamp}.\n[S2] Not even this.`;
  await typeScript(page, script);
  await page.getByTestId('projects-open').click();
  const dialog = page.getByTestId('projects-dialog');
  const items = dialog.getByTestId('project-item');
  await expect(items.first()).toBeVisible();
  const projectCount = await items.count();
  const error = dialog.getByTestId('projects-error');

  /** Opens whatever PROJECT_FILE holds now, expects `message`, and checks that nothing moved. */
  async function refused(message: RegExp): Promise<void> {
    await dialog.getByTestId('project-file-open').click();
    await expect(error).toHaveText(message);
    await expect(dialog).toBeVisible();
    await expect(items).toHaveCount(projectCount);
    await expect(page.getByTestId('project-name')).toHaveText(`Safe ${stamp}`);
    await expect.poll(() => editorText(page)).toBe(script);
    await expect(page.getByTestId('save-state')).toHaveText('Saved');
  }

  // Not a project file at all (a text file renamed .diaproj).
  writeFileSync(PROJECT_FILE, 'these are my notes, not a project\n');
  await refused(/^Cannot open the project file: .*opened\.diaproj is not a Dia Studio project file/);

  // An empty file.
  writeFileSync(PROJECT_FILE, '');
  await refused(/^Cannot open the project file: .*opened\.diaproj/);

  // A real project file cut short (an interrupted copy).
  await dialog.getByTestId('project-file-save').click();
  const savedNotice = page.getByText(/^Saved .*\.diaproj: 0 takes, 0 voice prompts\.$/);
  await expect(savedNotice).toBeVisible();
  const saved = (await savedNotice.textContent())!.match(/^Saved (.*\.diaproj):/)![1];
  const bytes = readFileSync(join(EXPORTS, saved));
  writeFileSync(PROJECT_FILE, bytes.subarray(0, Math.floor(bytes.length / 2)));
  await refused(/^Cannot open the project file: .*opened\.diaproj.*(damaged|malformed|not a Dia Studio project file)/);

  // The whole file still opens, as a copy next to the original.
  writeFileSync(PROJECT_FILE, bytes);
  await dialog.getByTestId('project-file-open').click();
  await expect(dialog).toBeHidden();
  await expect(notices(page)).toContainText(`Opened "Safe ${stamp}" with 0 takes (as a copy`);
  await expect.poll(() => editorText(page)).toBe(script);
});
