/// <reference lib="dom" />
// The Studio shell in Chromium through the browser harness: type a two-speaker script and see it
// parsed into lines, highlighted and diagnosed (a line too long to render cannot be played);
// theme toggle; keyboard focus; strict CSP holds.
import { expect, test, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { newProject, typeScript } from './studio-helpers.ts';

const ARTIFACTS = 'e2e/artifacts';

/** Collects CSP violations and page errors, so a test can assert the page ran cleanly. */
function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) problems.push(msg.text());
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return problems;
}

test.beforeAll(() => mkdirSync(ARTIFACTS, { recursive: true }));

test('types a two-speaker script and sees it parsed into lines with speakers', async ({ page }) => {
  const problems = watchProblems(page);
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Dia Studio' })).toBeVisible();
  // Connected to the harness and got a status from the engine service.
  await expect(page.getByTestId('engine-status')).not.toHaveText(/Connecting/);
  await expect(page.getByTestId('engine-status')).toHaveText(/Engine offline|No model loaded|Loading model|Ready|Engine error/);

  await typeScript(page, "[S1] Hello there, how are you today?\n[S2] (laughs) I'm fine, thanks for asking.\n[S1] Great. Let's begin.");

  const rows = page.getByTestId('line-row');
  await expect(rows).toHaveCount(3);
  await expect(rows.getByTestId('line-speaker')).toHaveText(['S1', 'S2', 'S1']);
  await expect(rows.getByTestId('line-text')).toHaveText([
    'Hello there, how are you today?',
    "(laughs) I'm fine, thanks for asking.",
    "Great. Let's begin.",
  ]);
  await expect(page.getByTestId('line-summary')).toHaveText('3 lines');
  // Status says so and RTF stays empty until a line is rendered.
  // (Edited, not rendered when a line inherits the id and takes of an earlier run's line.)
  await expect(rows.getByTestId('line-status')).toHaveText([/not rendered/i, /not rendered/i, /not rendered/i]);
  await expect(rows.getByTestId('line-rtf')).toHaveText(['', '', '']);

  // Tags are highlighted from the parse.
  await expect(page.locator('.cm-speaker-tag')).toHaveCount(3);
  await expect(page.locator('.cm-speaker-tag[data-speaker="S2"]')).toHaveText('[S2]');
  await expect(page.locator('.cm-nonverbal')).toHaveText(['(laughs)']);

  // Both speakers are listed with their line counts.
  const speakers = page.getByTestId('speaker-item');
  await expect(speakers).toHaveCount(2);
  await expect(speakers.nth(0)).toContainText('[S1]');
  await expect(speakers.nth(0)).toContainText('2 lines');
  await expect(speakers.nth(1)).toContainText('1 line');

  // Speaker colours drive the tag underline in the editor and the chip in the line list.
  const tagS2 = page.locator('.cm-speaker-tag[data-speaker="S2"]');
  await expect(tagS2).toHaveCSS('border-bottom-color', 'rgb(213, 94, 0)');
  await page.getByLabel('Colour of Speaker 2').fill('#aa00ff');
  await expect(tagS2).toHaveCSS('border-bottom-color', 'rgb(170, 0, 255)');
  await expect(rows.nth(1).locator('.chip')).toHaveCSS('background-color', 'rgb(170, 0, 255)');

  await page.screenshot({ path: `${ARTIFACTS}/studio-two-speakers.png`, fullPage: true });
  expect(problems).toEqual([]);
});

test('shows malformed tags inline and in the line list', async ({ page }) => {
  const problems = watchProblems(page);
  await page.goto('/');
  await typeScript(page, '[S1] Fine.\n[s2] Lower-case tag here.\n[S2] (dances) Unclosed [S3');
  await expect(page.getByTestId('line-row')).toHaveCount(2);
  await expect(page.getByTestId('line-summary')).toHaveText('2 lines, 2 errors, 1 warning');
  // @codemirror/lint underlines the ranges once its short delay has passed.
  await expect(page.locator('.cm-lintRange-error')).toHaveCount(2);
  await expect(page.locator('.cm-lintRange-warning')).toHaveCount(1);
  await page.locator('.cm-lintRange-error').first().hover();
  await expect(page.locator('.cm-tooltip-hover')).toContainText('write [S2]');
  await page.screenshot({ path: `${ARTIFACTS}/studio-diagnostics.png`, fullPage: true });
  expect(problems).toEqual([]);
});

test('selecting a line in the list selects its text in the editor', async ({ page }) => {
  await page.goto('/');
  await typeScript(page, '[S1] First line.\n[S2] Second line here.');
  await page.getByTestId('line-row').nth(1).getByRole('button', { name: 'Second line here.' }).click();
  await expect(page.getByTestId('line-row').nth(1)).toHaveClass(/selected/);
  const selected = await page.evaluate(() => window.getSelection()?.toString());
  expect(selected).toBe('Second line here.');
});

test('switches themes and keeps keyboard focus visible', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto('/');
  const html = page.locator('html');
  await expect(html).toHaveAttribute('data-theme', 'light');
  const toggle = page.getByTestId('theme-toggle');
  await toggle.click(); // system -> light
  await toggle.click(); // light -> dark
  await expect(html).toHaveAttribute('data-theme', 'dark');
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(background).toBe('rgb(17, 20, 24)');

  // Tab to the toggle from the top of the page: the focus ring must be drawn.
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  // Tab through the header (project menu, model, ...) to the theme toggle.
  for (let i = 0; i < 8 && !(await toggle.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
  await expect(toggle).toBeFocused();
  const outline = await toggle.evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(outline).not.toBe('none');
  await page.screenshot({ path: `${ARTIFACTS}/studio-dark.png`, fullPage: true });

  // The choice survives a reload.
  await page.reload();
  await expect(html).toHaveAttribute('data-theme', 'dark');
});

test('a line too long to render is flagged with the reason and cannot be played', async ({ page }) => {
  await page.goto('/');
  await newProject(page, `Long line ${Date.now().toString(36)}`);
  await page.locator('.cm-content').click();
  await page.keyboard.type('[S1] Fine.\n[S2] ');
  // Over the 10 000 characters one line can render (inserted at once: typing it takes too long).
  await page.keyboard.insertText('word '.repeat(2_001).trim());
  const rows = page.getByTestId('line-row');
  await expect(rows).toHaveCount(2);
  await expect(page.getByTestId('line-summary')).toHaveText('2 lines, 1 error');
  await expect(rows.nth(1).getByTestId('line-play')).toBeDisabled();
  await expect(rows.nth(1).locator('.line-jump')).toHaveAttribute('title', /over the 10000 one line can render: split it/);
  await expect(page.locator('.cm-lintRange-error')).toHaveCount(1);
  await expect(page.getByTestId('render-all')).toHaveText('Render all (1)');
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
});
