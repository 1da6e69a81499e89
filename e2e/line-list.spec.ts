/// <reference lib="dom" />
// The line list of a long script (drawn a window of rows at a time) as a keyboard and mouse user
// meets it: the selected line is shown, focus stays on the list, and a resize keeps it in step.
import { expect, test, type Page } from '@playwright/test';
import { stopPlayback } from './playback-helpers.ts';
import { bigScript, newProject, openStudio, paste, setMaxSeconds } from './studio-helpers.ts';

/** A new project whose script is `count` lines, pasted as the clipboard does. */
async function longScript(page: Page, name: string, count: number, text = bigScript(count)): Promise<void> {
  await openStudio(page);
  await newProject(page, name);
  await pasteScript(page, count, text);
}

/** Pastes a script of `count` lines into the open project's editor, as the clipboard does. */
async function pasteScript(page: Page, count: number, text = bigScript(count)): Promise<void> {
  await page.locator('.cm-content').click();
  await paste(page, text);
  await expect(page.getByTestId('line-summary')).toHaveText(`${count} lines`);
}

/** Whether the row of line `i` (0-based) is drawn and wholly in the list's view, below its sticky header. */
function rowInView(page: Page, i: number): Promise<boolean> {
  return page.evaluate((n) => {
    const scroller = document.querySelector('.table-scroll') as HTMLElement;
    const row = Array.from(scroller.querySelectorAll('tr[data-line-id]')).find((r) => r.querySelector('td')?.textContent === String(n + 1));
    if (!row) return false;
    const view = scroller.getBoundingClientRect();
    const header = scroller.querySelector('thead')?.getBoundingClientRect().height ?? 0;
    const box = row.getBoundingClientRect();
    return box.top >= view.top + header - 1 && box.bottom <= view.top + scroller.clientHeight + 1;
  }, i);
}

/** Goes to editor line `n` (1-based) with CodeMirror's go-to-line panel. */
async function cursorToLine(page: Page, n: number): Promise<void> {
  await page.locator('.cm-content').click();
  await page.keyboard.press('ControlOrMeta+Alt+G');
  await page.locator('.cm-panel input[name="line"]').fill(String(n));
  await page.keyboard.press('Enter');
}

test.use({ trace: 'off' });

test('a line selected from the editor cursor is scrolled into the list’s view', async ({ page }) => {
  test.setTimeout(120_000);
  await longScript(page, 'Select out of view', 2_000);
  expect(await rowInView(page, 1499)).toBe(false);

  // Play the line at the cursor: it becomes the selected line.
  await cursorToLine(page, 1500);
  await page.keyboard.press('ControlOrMeta+Enter');
  await page.keyboard.press('Escape');
  await expect(page.locator('[data-testid="line-row"].selected')).toContainText('Line 1499:');
  await expect.poll(() => rowInView(page, 1499)).toBe(true);

  // Back near the top: a line above the view is shown too.
  await cursorToLine(page, 3);
  await page.keyboard.press('ControlOrMeta+Enter');
  await page.keyboard.press('Escape');
  await expect(page.locator('[data-testid="line-row"].selected')).toContainText('Line 2:');
  await expect.poll(() => rowInView(page, 2)).toBe(true);
});

test('focus stays on the list when the focused row scrolls out of the drawn rows', async ({ page }) => {
  test.setTimeout(120_000);
  await longScript(page, 'Focus kept', 2_000);
  const scroller = page.locator('.table-scroll');
  await page.getByTestId('line-row').first().locator('.line-jump').focus();
  await scroller.evaluate((el) => (el.scrollTop = el.scrollHeight / 2));
  await expect(page.getByTestId('line-row').first()).not.toContainText('Line 0:');

  // The focused row is gone: the list itself has the focus, and the keys scroll it on.
  await expect(scroller).toBeFocused();
  const before = await scroller.evaluate((el) => el.scrollTop);
  await page.keyboard.press('PageDown');
  await expect.poll(() => scroller.evaluate((el) => el.scrollTop)).toBeGreaterThan(before);
  await page.keyboard.press('Tab');
  await expect(page.locator('.table-scroll tr[data-line-id] :focus')).toHaveCount(1);
});

/** The number (1-based) of the first row wholly below the list's sticky header. */
function firstInView(page: Page): Promise<number> {
  return page.evaluate(() => {
    const scroller = document.querySelector('.table-scroll') as HTMLElement;
    const top = scroller.getBoundingClientRect().top + (scroller.querySelector('thead')?.getBoundingClientRect().height ?? 0);
    const row = Array.from(scroller.querySelectorAll('tr[data-line-id]')).find((r) => r.getBoundingClientRect().top >= top - 1);
    return Number(row?.querySelector('td')?.textContent ?? -1);
  });
}

test('rows measured before the window narrows are measured anew', async ({ page }) => {
  test.setTimeout(120_000);
  await longScript(page, 'Narrowed', 400);
  const scroller = page.locator('.table-scroll');
  // Measure every row at the wide width: scroll through the list.
  await expect
    .poll(
      async () => {
        await scroller.evaluate((el) => (el.scrollTop += el.clientHeight));
        return page.getByTestId('line-row').last().textContent();
      },
      { intervals: [50], timeout: 30_000 },
    )
    .toContain('Line 399:');
  await scroller.evaluate((el) => (el.scrollTop = 0));
  await expect(page.getByTestId('line-row').first()).toContainText('Line 0:');

  // Narrower: every row wraps onto more lines than it was measured at.
  const rowHeight = () => page.getByTestId('line-row').nth(1).evaluate((el) => el.getBoundingClientRect().height);
  const wide = await rowHeight();
  await page.setViewportSize({ width: 1150, height: 800 });
  await expect.poll(rowHeight).toBeGreaterThan(wide + 5);
  const narrow = await rowHeight();

  // Scrolled to where line 301 is at that height: it is what the list shows.
  await scroller.evaluate((el, top) => (el.scrollTop = top), 300 * narrow);
  await page.waitForTimeout(300);
  expect(Math.abs((await firstInView(page)) - 301)).toBeLessThanOrEqual(3);
});

test('one jump to the end of a long list shows its last line', async ({ page }) => {
  test.setTimeout(120_000);
  await longScript(page, 'To the end', 2_000);
  // The rows drawn there are measured taller than estimated: the list stays at its end all the same.
  await page.locator('.table-scroll').evaluate((el) => (el.scrollTop = el.scrollHeight));
  await page.waitForTimeout(500);
  expect(await rowInView(page, 1999)).toBe(true);
});

test('a short list keeps its place when a line above the view grows', async ({ page }) => {
  test.setTimeout(120_000);
  await longScript(page, 'Short kept', 60);
  const scroller = page.locator('.table-scroll');
  await scroller.evaluate((el) => (el.scrollTop = el.scrollHeight / 2));
  await page.waitForTimeout(300);
  const shown = await firstInView(page);
  expect(shown).toBeGreaterThan(10);
  const rowTop = (n: number) =>
    page.evaluate((k) => {
      const row = Array.from(document.querySelectorAll('.table-scroll tr[data-line-id]')).find((r) => r.querySelector('td')?.textContent === String(k));
      return row?.getBoundingClientRect().top ?? NaN;
    }, n);
  const top = await rowTop(shown);

  // Line 3, far above the view, is edited to wrap onto many more lines.
  await cursorToLine(page, 3);
  await page.keyboard.press('End');
  await page.keyboard.insertText(' and then a great many more words'.repeat(12));
  await expect(page.getByTestId('line-row').nth(2)).toContainText('a great many more words');
  await page.waitForTimeout(300);
  // Within the rounding of scroll positions to whole pixels.
  expect(await firstInView(page)).toBe(shown);
  expect(Math.abs((await rowTop(shown)) - top)).toBeLessThanOrEqual(2);
});

test('another project opened shows its list from the top', async ({ page }) => {
  test.setTimeout(120_000);
  await longScript(page, 'Opened later', 100);
  await newProject(page, 'Scrolled away');
  await pasteScript(page, 100);
  const scroller = page.locator('.table-scroll');
  await scroller.evaluate((el) => (el.scrollTop = el.scrollHeight));
  await expect.poll(() => rowInView(page, 99)).toBe(true);

  await page.getByTestId('projects-open').click();
  const dialog = page.getByTestId('projects-dialog');
  await dialog.locator('[data-testid="project-item"]', { hasText: 'Opened later' }).getByTestId('project-open').click();
  await expect(page.getByTestId('project-name')).toHaveText('Opened later');
  await page.waitForTimeout(300);
  expect(await firstInView(page)).toBe(1);
  expect(await scroller.evaluate((el) => el.scrollTop)).toBe(0);
});

test('a list scrolled back to its top shows a line added above the first', async ({ page }) => {
  test.setTimeout(120_000);
  await longScript(page, 'Added on top', 60);
  const scroller = page.locator('.table-scroll');
  await scroller.evaluate((el) => (el.scrollTop = el.scrollHeight / 2));
  await expect.poll(() => firstInView(page)).toBeGreaterThan(10);
  await scroller.evaluate((el) => (el.scrollTop = 0));
  await expect.poll(() => firstInView(page)).toBe(1);

  await page.locator('.cm-content').click();
  await page.keyboard.press('ControlOrMeta+Home');
  await page.keyboard.insertText('[S2] A new first line.\n');
  await expect(page.getByTestId('line-summary')).toHaveText('61 lines');
  await page.waitForTimeout(300);
  expect(await firstInView(page)).toBe(1);
  await expect(page.getByTestId('line-row').first()).toContainText('A new first line.');
  expect(await rowInView(page, 0)).toBe(true);
});

test('a jump deep into a long list keeps showing the lines it lands on once they are measured', async ({ page }) => {
  test.setTimeout(120_000);
  // The first rows are short, the rest wrap: the rows drawn deep in the list are measured taller
  // than estimated from the first, so the estimate of every row above them grows; what is in view must not move.
  const short = Array.from({ length: 40 }, (_, i) => `[S1] Short ${i}.`);
  await longScript(page, 'Jump deep', 10_000, [...short, ...bigScript(10_000).split('\n').slice(40)].join('\n'));
  const scroller = page.locator('.table-scroll');
  await scroller.evaluate((el) => (el.scrollTop = el.scrollHeight / 2));
  await expect.poll(() => firstInView(page)).toBeGreaterThan(1000);
  const landed = await firstInView(page);
  await page.waitForTimeout(500);
  expect(Math.abs((await firstInView(page)) - landed)).toBeLessThanOrEqual(1);
});

test('playing the selected line again from the editor scrolls it back into the list’s view', async ({ page }) => {
  test.setTimeout(120_000);
  await longScript(page, 'Reselected', 2_000);
  await cursorToLine(page, 1500);
  await page.keyboard.press('ControlOrMeta+Enter');
  await page.keyboard.press('Escape');
  await expect.poll(() => rowInView(page, 1499)).toBe(true);

  // The list is scrolled away from it; the line is played again, still the selected one.
  await page.locator('.table-scroll').evaluate((el) => (el.scrollTop = 0));
  await expect.poll(() => firstInView(page)).toBe(1);
  await cursorToLine(page, 1500);
  await page.keyboard.press('ControlOrMeta+Enter');
  await page.keyboard.press('Escape');
  await expect(page.locator('[data-testid="line-row"].selected')).toContainText('Line 1499:');
  await expect.poll(() => rowInView(page, 1499)).toBe(true);
});

test('play all leaves a list scrolled by hand where it is until asked to follow again', async ({ page }) => {
  test.setTimeout(180_000);
  await openStudio(page);
  await newProject(page, 'Follow playback');
  await setMaxSeconds(page, '2');
  await pasteScript(page, 300);
  const status = page.getByTestId('playback-status');
  await page.keyboard.press('Alt+Shift+Enter');
  await expect(status).toContainText('Playing all · line 1 of 300');
  await expect.poll(() => rowInView(page, 0)).toBe(true);

  // Scrolled with the wheel to read ahead while line 1 plays.
  const box = (await page.locator('.table-scroll').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel(0, 3_000);
  await expect.poll(() => firstInView(page)).toBeGreaterThan(20);
  // The wheel's scroll has settled once two reads agree.
  let readAhead = -1;
  await expect
    .poll(async () => {
      const now = await firstInView(page);
      const settled = now === readAhead;
      readAhead = now;
      return settled;
    })
    .toBe(true);

  // Line 2 starts (selected, as the takes and waveform follow it): the list stays where it was.
  await expect(status).toContainText('line 2 of 300', { timeout: 90_000 });
  await page.waitForTimeout(300);
  expect(await firstInView(page)).toBe(readAhead);

  // Follow playback: the line being played is shown, and the button goes.
  const follow = page.getByTestId('follow-playback');
  await follow.click();
  await expect(follow).toBeHidden();
  const playing = Number((await status.textContent())?.match(/line (\d+) of/)?.[1]);
  await expect.poll(() => rowInView(page, playing - 1)).toBe(true);
  await stopPlayback(page);
});
