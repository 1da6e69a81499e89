/// <reference lib="dom" />
// Keys from the README's table through the browser harness, with the cursor in the script as a
// user has it: Ctrl/⌘+Enter plays the line at the cursor (and only it), Ctrl/⌘+Shift+Enter makes a
// new take of it, Alt+Enter plays from the line at the cursor to the end, Esc stops; the waveform
// plays from a point chosen with the arrow keys and Enter; '?' typed into the script is text.
import { expect, test, type Page } from '@playwright/test';
import { stopPlayback } from './playback-helpers.ts';
import { editorText, freshProject, gutterStates } from './studio-helpers.ts';

/** Puts the editor cursor at the end of script line `i` (0-based). */
async function cursorInLine(page: Page, i: number): Promise<void> {
  await page.locator('.cm-line').nth(i).click();
  await page.keyboard.press('End');
}

test('Ctrl+Enter plays the line at the cursor, Alt+Enter plays from it to the end, Esc stops', async ({ page }) => {
  test.setTimeout(180_000);
  const stamp = Date.now().toString(36);
  await freshProject(page, `Keys ${stamp}`, `[S1] Key one ${stamp}.\n[S2] Key two ${stamp}.\n[S1] Key three ${stamp}.`);
  const rows = page.getByTestId('line-row');
  const status = page.getByTestId('playback-status');

  await cursorInLine(page, 1);
  await page.keyboard.press('ControlOrMeta+Enter');
  await expect(rows.nth(1)).toHaveClass(/selected/);
  await expect(rows.nth(1).getByTestId('line-status')).toHaveText('Fresh', { timeout: 60_000 });
  await expect(rows.getByTestId('line-status')).toHaveText(['Not rendered', 'Fresh', 'Not rendered']);
  // The key played the line; it did not also go to the editor (no new line typed).
  await expect(rows).toHaveCount(3);
  await expect.poll(() => editorText(page)).toBe(`[S1] Key one ${stamp}.\n[S2] Key two ${stamp}.\n[S1] Key three ${stamp}.`);
  await page.keyboard.press('Escape');
  await expect(status).toHaveText('Not playing');

  await cursorInLine(page, 1);
  await page.keyboard.press('Alt+Enter');
  await expect(status).toContainText(/Playing all · line \d of 2/);
  await expect(rows.nth(2).getByTestId('line-status')).toHaveText('Fresh', { timeout: 60_000 });
  await expect(status).toHaveText('Not playing', { timeout: 60_000 });
  await expect(rows.nth(0).getByTestId('line-status')).toHaveText('Not rendered');
  await expect(gutterStates(page)).toHaveCount(3);
  await expect(gutterStates(page).nth(0)).toHaveAttribute('data-state', 'none');
  await expect(gutterStates(page).nth(2)).toHaveAttribute('data-state', 'cached');

  // Ctrl+Shift+Enter: a second take of the line at the cursor (line 3), not of the selected one.
  await rows.nth(0).locator('.line-jump').click();
  await cursorInLine(page, 2);
  await page.keyboard.press('ControlOrMeta+Shift+Enter');
  await expect(rows.nth(2)).toHaveClass(/selected/);
  await expect(page.locator('[data-testid="take-item"][data-current="true"]')).toHaveCount(2, { timeout: 60_000 });
  await stopPlayback(page);
  await expect(rows.nth(0).getByTestId('line-status')).toHaveText('Not rendered');

  // Esc stops a sequence half-way: line 1 is rendered as it plays, then stopped.
  await cursorInLine(page, 0);
  await page.keyboard.press('Alt+Enter');
  await expect(status).toContainText('Playing all · line 1 of 3');
  await page.keyboard.press('Escape');
  await expect(status).toHaveText('Not playing');
  await expect.poll(() => editorText(page)).toContain(`Key one ${stamp}.`);
});

test('Esc calls off a play that is still getting ready, as the Stop button does', async ({ page }) => {
  test.setTimeout(120_000);
  // The line's takes are not looked up yet and the lookup is held: the play is getting ready.
  const held: string[] = [];
  let holding = true;
  let toServer: (message: string | Buffer) => void = () => undefined;
  await page.routeWebSocket(/\/api$/, (ws) => {
    const server = ws.connectToServer();
    toServer = (message) => server.send(message);
    ws.onMessage((message) => {
      if (holding && typeof message === 'string' && message.includes('"method":"listTakes"')) held.push(message);
      else server.send(message);
    });
  });
  const stamp = Date.now().toString(36);
  await freshProject(page, `Esc ready ${stamp}`, `[S1] Getting ready ${stamp}.`);
  const stop = page.getByTestId('stop');
  await cursorInLine(page, 0);
  await page.keyboard.press('ControlOrMeta+Enter');
  await expect(stop).toBeEnabled();
  await page.keyboard.press('Escape');
  await expect(stop).toBeDisabled();
  holding = false;
  for (const message of held.splice(0)) toServer(message);
  // Called off: the line does not start playing (or rendering) once its takes are known.
  await expect(page.getByTestId('line-row').first().getByTestId('line-status')).toHaveText('Not rendered');
  await page.waitForTimeout(1_000);
  await expect(page.getByTestId('playback-status')).toHaveText('Not playing');
  await expect(page.getByTestId('line-row').first().getByTestId('line-status')).toHaveText('Not rendered');
});

test('a held Ctrl+Shift+Enter makes one new take, not one per auto-repeat', async ({ page }) => {
  test.setTimeout(120_000);
  // Each request to render a line, counted on its way to the server.
  let renderRequests = 0;
  await page.routeWebSocket(/\/api$/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((message) => {
      if (typeof message === 'string' && message.includes('"method":"renderLine"')) renderRequests++;
      server.send(message);
    });
  });
  const stamp = Date.now().toString(36);
  const text = `[S1] Held down ${stamp}.`;
  await freshProject(page, `Held ${stamp}`, text);
  await cursorInLine(page, 0);
  // The key held: the first keydown, then the auto-repeats (Playwright marks a second down as a repeat).
  await page.keyboard.down('ControlOrMeta');
  await page.keyboard.down('Shift');
  for (let i = 0; i < 6; i++) await page.keyboard.down('Enter');
  await page.keyboard.up('Enter');
  await page.keyboard.up('Shift');
  await page.keyboard.up('ControlOrMeta');
  const row = page.getByTestId('line-row').first();
  await expect(row.getByTestId('line-status')).toHaveText('Fresh', { timeout: 60_000 });
  await stopPlayback(page);
  expect(renderRequests).toBe(1);
  await expect(page.getByTestId('take-item')).toHaveCount(1);
  // The repeats did not reach the editor either (CodeMirror inserts a line on Mod-Enter).
  await expect.poll(() => editorText(page)).toBe(text);
});

test('the waveform plays from the point chosen with the arrow keys and Enter', async ({ page }) => {
  test.setTimeout(120_000);
  const stamp = Date.now().toString(36);
  await freshProject(page, `Waveform keys ${stamp}`, `[S1] Seek by keyboard ${stamp}.`);
  const row = page.getByTestId('line-row').first();
  await row.getByTestId('line-play').click();
  await expect(row.getByTestId('line-status')).toHaveText('Fresh', { timeout: 60_000 });
  await stopPlayback(page);
  const wave = page.getByTestId('waveform');
  await expect(wave).toHaveAttribute('data-complete', 'true');
  const canvas = page.getByTestId('waveform-canvas');
  const duration = Number(await canvas.getAttribute('aria-valuemax'));
  expect(duration).toBeGreaterThan(1.5);

  await canvas.focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await expect(canvas).toHaveAttribute('aria-valuenow', '1');
  await page.keyboard.press('End');
  await expect(canvas).toHaveAttribute('aria-valuenow', String(duration));
  await page.keyboard.press('Home');
  await expect(canvas).toHaveAttribute('aria-valuenow', '0');
  // Shift moves 2 s, stopping at the end; the arrows alone 0.5 s.
  await page.keyboard.press('Shift+ArrowRight');
  await expect(canvas).toHaveAttribute('aria-valuenow', String(Math.min(2, duration)));
  await page.keyboard.press('Home');
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowLeft');
  await expect(canvas).toHaveAttribute('aria-valuenow', '1');
  await expect(page.getByTestId('waveform-caption')).toContainText('1.0 s /');

  await page.keyboard.press('Enter');
  await expect(page.getByTestId('playback-status')).toContainText('Playing');
  await expect(canvas).toHaveAttribute('data-offset', '1.00');
  await stopPlayback(page);
});

test("'?' typed into the script is text; elsewhere it opens the shortcut help", async ({ page }) => {
  const stamp = Date.now().toString(36);
  await freshProject(page, `Help ${stamp}`, `[S1] Is this a question ${stamp}`);
  await page.locator('.cm-content').click();
  await page.keyboard.press('ControlOrMeta+End');
  await page.keyboard.type('?');
  await expect(page.getByTestId('shortcut-help')).toBeHidden();
  await expect.poll(() => editorText(page)).toBe(`[S1] Is this a question ${stamp}?`);

  await page.getByTestId('help-button').click();
  const help = page.getByTestId('shortcut-help');
  await expect(help).toBeVisible();
  // Every key of the README's table is listed.
  for (const keys of ['Ctrl+Enter', 'Ctrl+Shift+Enter', 'Alt+Enter', 'Alt+Shift+Enter', 'Alt+B', 'Esc', '?']) await expect(help).toContainText(keys);
  await page.keyboard.press('Escape');
  await expect(help).toBeHidden();
});
