/// <reference lib="dom" />
// The Takes panel through the browser harness with the demo model: a take is deleted only after a
// confirmation (Keep backs out), a deleted take stays gone after a reload, the take put in use is
// what the line plays and keeps, a line whose takes are all deleted shows as not rendered, and a
// held Enter clicks once.
import { expect, test, type Page } from '@playwright/test';
import { stopPlayback } from './playback-helpers.ts';
import { freshProject, gutterStates, renderLine } from './studio-helpers.ts';

test('deletes a take only once confirmed; the take in use stays chosen across a reload', async ({ page }) => {
  test.setTimeout(120_000);
  const stamp = Date.now().toString(36);
  await freshProject(page, `Takes ${stamp}`, `[S1] Takes to keep ${stamp}.`);
  const row = await renderLine(page, 0);
  await stopPlayback(page);
  const takes = page.getByTestId('take-item');
  await expect(takes).toHaveCount(1);
  const firstId = (await takes.first().getAttribute('data-take-id'))!;
  await page.getByTestId('takes-new').click();
  await expect(takes).toHaveCount(2, { timeout: 60_000 });
  await stopPlayback(page);
  const first = page.locator(`[data-testid="take-item"][data-take-id="${firstId}"]`);
  const second = page.locator(`[data-testid="take-item"]:not([data-take-id="${firstId}"])`);
  const secondId = (await second.getAttribute('data-take-id'))!;

  // Use the new take: it becomes the line's audio.
  await second.getByTestId('take-choose').click();
  await expect(second).toHaveAttribute('data-chosen', 'true');
  await expect(first).toHaveAttribute('data-chosen', 'false');

  // Delete asks first, naming the take; Keep backs out.
  await first.getByTestId('take-delete').click();
  await expect(first).toContainText(`Delete take ${firstId}?`);
  await expect(first.getByTestId('take-delete-confirm')).toBeFocused();
  await first.getByTestId('take-delete-keep').click();
  await expect(takes).toHaveCount(2);
  await expect(first.getByTestId('take-delete')).toBeVisible();

  // The chosen take says so in its question.
  await second.getByTestId('take-delete').click();
  await expect(second).toContainText(`Delete take ${secondId}, the chosen one?`);
  await second.getByTestId('take-delete-keep').click();

  // Confirmed: gone, and the take in use is still the line's audio.
  await first.getByTestId('take-delete').click();
  await first.getByTestId('take-delete-confirm').click();
  await expect(takes).toHaveCount(1);
  await expect(takes.first()).toHaveAttribute('data-take-id', secondId);
  await expect(takes.first()).toHaveAttribute('data-chosen', 'true');
  await expect(row.getByTestId('line-status')).toHaveText(/Fresh|Cached/);

  await page.reload();
  await expect(row.getByTestId('line-status')).toHaveText('Cached');
  await expect(gutterStates(page).first()).toHaveAttribute('data-state', 'cached');
  await row.locator('.line-jump').click();
  await expect(takes).toHaveCount(1);
  await expect(takes.first()).toHaveAttribute('data-take-id', secondId);
  await expect(takes.first()).toHaveAttribute('data-chosen', 'true');
  // Playing the line plays the take in use (from the cache), it does not render another.
  const heard = () => page.evaluate(() => (window as unknown as { __diaStudioAudio?: { receivedSamples: number } }).__diaStudioAudio?.receivedSamples ?? 0);
  const before = await heard();
  await row.getByTestId('line-play').click();
  await expect.poll(heard).toBeGreaterThan(before);
  await expect(row).toHaveAttribute('data-status', 'cached');
  await expect(page.getByTestId('waveform')).toHaveAttribute('data-take-id', secondId);
  await stopPlayback(page);
  await expect(takes).toHaveCount(1);
});

// At once, not only after a reload: no Fresh figures of the deleted take, no gutter ●, not counted.
test('a line whose only take is deleted shows as not rendered', async ({ page }) => {
  test.setTimeout(120_000);
  const stamp = Date.now().toString(36);
  await freshProject(page, `Takes gone ${stamp}`, `[S1] A take to delete ${stamp}.\n[S2] Never rendered ${stamp}.`);
  const row = await renderLine(page, 0);
  await stopPlayback(page);
  await expect(page.getByTestId('script-summary')).toContainText('1 of 2 rendered');
  const take = page.getByTestId('take-item');
  await expect(take).toHaveCount(1);
  await take.getByTestId('take-delete').click();
  await take.getByTestId('take-delete-confirm').click();
  await expect(take).toHaveCount(0);
  await expect(page.getByText('No takes of this line yet.')).toBeVisible();

  // What a reload shows (the cache has no take of the line) is what the studio shows now.
  await expect(row.getByTestId('line-status')).toHaveText('Not rendered');
  await expect(row.getByTestId('line-rtf')).toHaveText('');
  await expect(gutterStates(page).first()).toHaveAttribute('data-state', 'none');
  await expect(page.getByTestId('script-summary')).toContainText('0 of 2 rendered');
  await page.reload();
  await expect(row.getByTestId('line-status')).toHaveText('Not rendered');
  await expect(gutterStates(page).first()).toHaveAttribute('data-state', 'none');
});

// An edit undone by typing: the line's take of those words is its audio again at once (readout,
// gutter, the take listed as chosen, Play) and after a reload, not "Not rendered" beside a ●.
test('a line edited back to words it had uses its take of those words again', async ({ page }) => {
  test.setTimeout(180_000);
  const stamp = Date.now().toString(36);
  await freshProject(page, `Reverted ${stamp}`, `[S1] First words ${stamp}.`);
  const row = await renderLine(page, 0);
  await stopPlayback(page);
  const takes = page.getByTestId('take-item');
  await expect(takes).toHaveCount(1);
  const firstId = (await takes.first().getAttribute('data-take-id'))!;
  const first = page.locator(`[data-testid="take-item"][data-take-id="${firstId}"]`);

  // Edited in place and rendered: the take of the new words is in use.
  const added = ' Or not';
  await page.locator('.cm-line').nth(0).click();
  await page.keyboard.press('End');
  await page.keyboard.type(added);
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
  await expect(row.getByTestId('line-status')).toHaveText(/Edited, not rendered/);
  await renderLine(page, 0);
  await stopPlayback(page);
  await expect(takes).toHaveCount(2);
  await expect(first).toHaveAttribute('data-chosen', 'false');

  // Back to the first words.
  await page.locator('.cm-line').nth(0).click();
  await page.keyboard.press('End');
  for (let i = 0; i < added.length; i++) await page.keyboard.press('Backspace');
  await expect(page.locator('.cm-line').nth(0)).toHaveText(`[S1] First words ${stamp}.`);
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
  await expect(row.getByTestId('line-status')).toHaveText('Cached');
  await expect(gutterStates(page).first()).toHaveAttribute('data-state', 'cached');
  await expect(first).toHaveAttribute('data-chosen', 'true');
  // Play plays that take from the cache; it does not render another.
  await row.getByTestId('line-play').click();
  await expect(page.getByTestId('waveform')).toHaveAttribute('data-take-id', firstId);
  await stopPlayback(page);
  await expect(takes).toHaveCount(2);

  await page.reload();
  await expect(row.getByTestId('line-status')).toHaveText('Cached');
  await row.locator('.line-jump').click();
  await expect(first).toHaveAttribute('data-chosen', 'true');
});

// The take the user chose among several takes of some words, not merely their newest, is the
// line's audio again once an edit to other words (rendered, so a take of those is chosen) is undone;
// the Takes panel shows one chosen take of the words the line says now.
test('an edit undone brings back the take chosen for those words, not their newest take', async ({ page }) => {
  test.setTimeout(240_000);
  const stamp = Date.now().toString(36);
  const words = `[S1] Choose among these ${stamp}.`;
  await freshProject(page, `Choice kept ${stamp}`, words);
  const row = await renderLine(page, 0);
  await stopPlayback(page);
  const takes = page.getByTestId('take-item');
  for (const count of [2, 3]) {
    await page.getByTestId('takes-new').click();
    await expect(takes).toHaveCount(count, { timeout: 60_000 });
    await stopPlayback(page);
  }
  // Newest first: the middle one is neither the first rendered nor the newest.
  const middleId = (await takes.nth(1).getAttribute('data-take-id'))!;
  const middle = page.locator(`[data-testid="take-item"][data-take-id="${middleId}"]`);
  await middle.getByTestId('take-choose').click();
  await expect(middle).toHaveAttribute('data-chosen', 'true');
  const inUse = page.locator('[data-testid="take-item"][data-chosen="true"]'); // shown chosen only for the line's words
  await expect(inUse).toHaveCount(1);

  // Edited and rendered: a take of the new words is the one in use.
  await page.locator('.cm-line').nth(0).click();
  await page.keyboard.press('End');
  await page.keyboard.type(' Or not');
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
  await renderLine(page, 0);
  await stopPlayback(page);
  await expect(takes).toHaveCount(4);
  await expect(inUse).toHaveCount(1);
  // Newest first: the new words' take leads the list.
  await expect(inUse).toHaveAttribute('data-take-id', (await takes.nth(0).getAttribute('data-take-id'))!);
  expect(await takes.nth(0).getAttribute('data-take-id')).not.toBe(middleId);

  // Undone: the chosen take of the first words, in the panel, on Play and after a reload.
  await page.locator('.cm-line').nth(0).click();
  for (let i = 0; i < 10 && (await page.locator('.cm-line').nth(0).textContent()) !== words; i++) await page.keyboard.press('ControlOrMeta+Z');
  await expect(page.locator('.cm-line').nth(0)).toHaveText(words);
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
  await expect(row.getByTestId('line-status')).toHaveText('Cached');
  await expect(inUse).toHaveCount(1);
  await expect(inUse).toHaveAttribute('data-take-id', middleId);
  await row.getByTestId('line-play').click();
  await expect(page.getByTestId('waveform')).toHaveAttribute('data-take-id', middleId);
  await stopPlayback(page);
  await page.reload();
  await expect(row.getByTestId('line-status')).toHaveText('Cached');
  await row.locator('.line-jump').click();
  await expect(inUse).toHaveAttribute('data-take-id', middleId);
});

/** Holds Enter down on the focused element: the first press, then auto-repeats about as often as a keyboard sends them. */
async function holdEnter(page: Page, repeats = 5): Promise<void> {
  await page.keyboard.down('Enter');
  for (let i = 0; i < repeats; i++) {
    await page.waitForTimeout(40);
    await page.keyboard.down('Enter'); // pressed already: Playwright sends it as a repeat
  }
  await page.keyboard.up('Enter');
}

// The browser clicks a focused button on each auto-repeat of Enter: a held Enter would render the
// line again and again, and confirm the Delete that its first press only asked about.
test('a held Enter acts once: a line plays once, a take is not deleted unasked, the waveform plays once', async ({ page }) => {
  test.setTimeout(120_000);
  const stamp = Date.now().toString(36);
  await freshProject(page, `Held Enter ${stamp}`, `[S1] Held down ${stamp}.`);
  const row = page.getByTestId('line-row').first();
  const clicks = () => page.evaluate(() => (window as unknown as { __linePlays: number }).__linePlays);
  await page.evaluate(() => {
    const w = window as unknown as { __linePlays: number };
    w.__linePlays = 0;
    document.addEventListener('click', (e) => void ((e.target as Element).closest('[data-testid="line-play"]') && w.__linePlays++), true);
  });
  await row.getByTestId('line-play').focus();
  await holdEnter(page);
  await expect(row.getByTestId('line-status')).toHaveText(/^\s*(Fresh|Cached)\s*$/, { timeout: 60_000 });
  expect(await clicks()).toBe(1);
  await stopPlayback(page);
  const takes = page.getByTestId('take-item');
  await expect(takes).toHaveCount(1);

  // The waveform plays the take once from the cursor, not once more for every repeat.
  const canvas = page.getByTestId('waveform-canvas');
  await expect(page.getByTestId('waveform')).toHaveAttribute('data-complete', 'true');
  const samples = Number(await page.getByTestId('waveform').getAttribute('data-samples'));
  const received = () => page.evaluate(() => (window as unknown as { __diaStudioAudio?: { receivedSamples: number } }).__diaStudioAudio?.receivedSamples ?? 0);
  const before = await received();
  await canvas.focus();
  await holdEnter(page);
  await expect(page.getByTestId('playback-status')).toHaveText('Not playing', { timeout: 10_000 });
  expect(await received()).toBeGreaterThanOrEqual(before + samples * 0.9);
  expect(await received()).toBeLessThan(before + samples * 1.5);

  // Delete held: it asks, and the question waits for a press of its own.
  await takes.first().getByTestId('take-delete').focus();
  await holdEnter(page);
  await expect(takes.first().getByTestId('take-delete-confirm')).toBeFocused();
  await expect(takes).toHaveCount(1);
  await takes.first().getByTestId('take-delete-keep').click();
  await expect(takes).toHaveCount(1);
});
