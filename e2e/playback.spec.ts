/// <reference lib="dom" />
// Playback views through the browser harness with the tiny demo model: the editor gutter follows
// each line's state (not rendered, rendering, cached, stale after an edit), the waveform grows as
// a line streams and seeks on click, play all / play from here walk the script, A/B compare keeps
// the position when switching takes, find works in the editor, and voice prompts can be imported
// from a clip or promoted from a take.
import { expect, test, type Page } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { VOICE_CLIP } from './harness-paths.ts';
import { stopPlayback } from './playback-helpers.ts';
import { gutterStates, setMaxSeconds, typeScript, wav16 } from './studio-helpers.ts';

const ARTIFACTS = 'e2e/artifacts';

async function openStudio(page: Page): Promise<void> {
  await page.goto('/');
  await expect(page.getByTestId('project-name')).not.toHaveText(/Opening/);
  await expect(page.getByTestId('engine-status')).toHaveText(/Ready|No model loaded|Loading model/);
}

function played(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { __diaStudioAudio?: { playedSamples: number } }).__diaStudioAudio?.playedSamples ?? 0);
}

/** A 2 s mono 16-bit WAV: a gliding tone with a little noise, like a short voice clip. */
function writeVoiceClip(path: string): void {
  const rate = 44_100;
  const n = 2 * rate;
  const data = Buffer.alloc(n * 2);
  let seed = 1;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1_103_515_245 + 12_345) >>> 0;
    const t = i / rate;
    const s = 0.3 * Math.sin(2 * Math.PI * (160 + 40 * t) * t) + 0.02 * (seed / 2 ** 32 - 0.5);
    data.writeInt16LE(Math.round(s * 32_767), 2 * i);
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, wav16(data, rate, 1));
}

test.beforeAll(() => mkdirSync(ARTIFACTS, { recursive: true }));

test('generation settings: checked, saved with the project, reset', async ({ page }) => {
  await openStudio(page);
  await page.getByTestId('settings-open').click();
  const panel = page.getByTestId('settings-panel');
  await panel.getByTestId('set-topp').fill('0');
  await panel.getByTestId('set-topp').press('Tab');
  await expect(panel.getByTestId('settings-errors')).toContainText('Top-p: Invalid value');
  await panel.getByTestId('set-temp').fill('0.8');
  await panel.getByTestId('set-temp').press('Tab');
  await panel.getByTestId('set-seed-fixed').check();
  await panel.getByTestId('set-seed').fill('1234');
  await panel.getByTestId('set-seed').press('Tab');
  await page.screenshot({ path: `${ARTIFACTS}/studio-settings.png` });
  await panel.getByTestId('settings-close').click();
  await expect(page.getByTestId('save-state')).toHaveText('Saved');

  await page.reload();
  await page.getByTestId('settings-open').click();
  await expect(panel.getByTestId('set-temp')).toHaveValue('0.8');
  await expect(panel.getByTestId('set-seed')).toHaveValue('1234');
  await expect(panel.getByTestId('set-topp')).toHaveValue('0.95');
  await panel.getByTestId('settings-reset').click();
  await expect(panel.getByTestId('set-temp')).toHaveValue('1.2');
  await expect(panel.getByTestId('set-seed-fresh')).toBeChecked();
  await panel.getByTestId('settings-close').click();
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
});

test('gutter states, waveform, play all, play from here, A/B compare and find', async ({ page }) => {
  test.setTimeout(180_000);
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  await openStudio(page);
  // Dia's own voices: a voice prompt left by an earlier run would not fit in 2 s passes.
  for (const remove of await page.getByTestId('voice-remove').all()) await remove.click();
  // Short passes (the random demo model never stops by itself), so playing all stays quick.
  await setMaxSeconds(page, '2');
  const stamp = Date.now().toString(36);
  await typeScript(page, `[S1] Gutter one ${stamp}.\n[S2] Gutter two ${stamp}.\n[S1] Gutter three ${stamp}.`);
  const rows = page.getByTestId('line-row');
  await expect(rows).toHaveCount(3);
  await expect(gutterStates(page)).toHaveCount(3);
  // Lines may inherit ids (and takes of other wordings) from an earlier run's lines: then stale.
  await expect(gutterStates(page).nth(0)).toHaveAttribute('data-state', /^(none|stale)$/);

  // Play line 1: the gutter goes to rendering, then cached; the waveform fills with its audio.
  await rows.nth(0).getByTestId('line-play').click();
  await expect(rows.nth(0).getByTestId('line-status')).toHaveText('Fresh', { timeout: 60_000 });
  await expect(gutterStates(page).nth(0)).toHaveAttribute('data-state', 'cached');
  const lineId = await rows.nth(0).getAttribute('data-line-id');
  const wave = page.getByTestId('waveform');
  await expect(wave).toHaveAttribute('data-line-id', lineId!);
  await expect(wave).toHaveAttribute('data-complete', 'true');
  await expect(wave).not.toHaveAttribute('data-take-id', '');
  expect(Number(await wave.getAttribute('data-samples'))).toBeGreaterThan(0);
  await page.keyboard.press('Escape');

  // Edit line 1 after rendering: stale in the gutter and the line list; undo brings it back.
  await page.locator('.cm-line').nth(0).click();
  await page.keyboard.press('End');
  await page.keyboard.type(' More');
  await expect(gutterStates(page).nth(0)).toHaveAttribute('data-state', 'stale');
  await expect(rows.nth(0)).toHaveAttribute('data-state', 'stale');
  await page.keyboard.press('ControlOrMeta+Z');
  await expect(gutterStates(page).nth(0)).toHaveAttribute('data-state', 'cached');
  await expect(rows.nth(0).getByTestId('line-status')).toHaveText(/^\s*(Fresh|Cached)\s*$/);

  // Play all (Alt+Shift+Enter): line 1 from the cache, lines 2 and 3 rendered as they play.
  const before = await played(page);
  await page.keyboard.press('Alt+Shift+Enter');
  await expect(page.getByTestId('playback-status')).toContainText('Playing all · line');
  await expect(page.locator('.cm-line-state-gutter [data-state="cached"]:visible')).toHaveCount(3, { timeout: 90_000 });
  await expect(rows.getByTestId('line-status')).toHaveText([/^\s*(Fresh|Cached)\s*$/, 'Fresh', 'Fresh'], { timeout: 90_000 });
  await expect(page.getByTestId('playback-status')).toHaveText('Not playing', { timeout: 60_000 });
  expect(await played(page)).toBeGreaterThan(before);
  await expect(rows.nth(2)).toHaveClass(/selected/);

  // Play from here on line 2: two lines to go.
  await rows.nth(1).locator('.line-jump').click();
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.getByTestId('play-from-here').click();
  await expect(page.getByTestId('playback-status')).toContainText('of 2');
  await stopPlayback(page);
  await expect(page.getByTestId('playback-status')).toHaveText('Not playing');

  // A second take of line 2, then A/B: switching keeps the position in the line.
  await page.getByTestId('takes-new').click();
  const current = page.locator('[data-testid="take-item"][data-current="true"]');
  await expect(current).toHaveCount(2, { timeout: 60_000 });
  await stopPlayback(page);
  await current.first().getByTestId('take-compare').click();
  await expect(page.getByTestId('ab-bar')).toBeVisible();
  const canvas = page.getByTestId('waveform-canvas');
  await page.getByTestId('ab-play-a').click();
  await expect(canvas).not.toHaveAttribute('data-playhead', '');
  await expect.poll(async () => Number((await canvas.getAttribute('data-playhead')) || 0)).toBeGreaterThan(0.05);
  await page.keyboard.press('Alt+B');
  await expect(page.getByTestId('ab-play-b')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('playback-status')).toContainText('B (take');
  expect(Number(await canvas.getAttribute('data-offset'))).toBeGreaterThan(0);
  const bTake = (await page.getByTestId('ab-play-b').textContent())!.match(/take (\d+)/)![1];
  await expect(wave).toHaveAttribute('data-take-id', bTake);
  await page.screenshot({ path: `${ARTIFACTS}/studio-ab-compare.png` });
  await stopPlayback(page);

  // Clicking the middle of the waveform plays from there.
  const box = (await canvas.boundingBox())!;
  await canvas.click({ position: { x: box.width / 2, y: box.height / 2 } });
  await expect(page.getByTestId('playback-status')).toContainText('Playing');
  const duration = Number(await wave.getAttribute('data-samples')) / 44_100;
  expect(Number(await canvas.getAttribute('data-offset'))).toBeCloseTo(duration / 2, 1);
  await stopPlayback(page);

  // Find in the script (CodeMirror's search panel).
  await page.locator('.cm-content').click();
  await page.keyboard.press('ControlOrMeta+F');
  const search = page.locator('.cm-search input[name="search"]');
  await expect(search).toBeVisible();
  await search.fill(`two ${stamp}`);
  await search.press('Enter');
  await expect(page.locator('.cm-searchMatch')).toHaveCount(1);
  await page.screenshot({ path: `${ARTIFACTS}/studio-find.png` });
  await page.keyboard.press('Escape');
  await expect(search).toBeHidden();

  const themeToggle = page.getByTestId('theme-toggle');
  for (let i = 0; i < 3 && !/Dark/.test((await themeToggle.textContent()) ?? ''); i++) await themeToggle.click();
  await expect(themeToggle).toContainText('Dark');
  await page.screenshot({ path: `${ARTIFACTS}/studio-playback-dark.png` });
  // Back to following the system, as the other tests expect.
  for (let i = 0; i < 3 && !/System/.test((await themeToggle.textContent()) ?? ''); i++) await themeToggle.click();
  await page.getByTestId('settings-open').click();
  await page.getByTestId('settings-reset').click();
  await page.getByTestId('settings-close').click();
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
  expect(problems).toEqual([]);
});

test('voice prompts: import a clip with its transcript, promote a take, remove', async ({ page }) => {
  test.setTimeout(120_000);
  writeVoiceClip(VOICE_CLIP);
  await openStudio(page);
  // A take short enough to be a voice prompt (the random demo model never stops by itself).
  await setMaxSeconds(page, '3');
  const stamp = Date.now().toString(36);
  await typeScript(page, `[S1] Voice line ${stamp}.\n[S2] Second voice line ${stamp}.`);
  const s1 = page.locator('[data-testid="speaker-item"][data-speaker="S1"]');
  await s1.getByTestId('voice-import-open').click();
  await expect(s1.getByTestId('voice-import-choose')).toBeDisabled();
  // The speaker's tag is added by the app: a transcript with a tag in it is not taken.
  await s1.getByTestId('voice-transcript').fill(`[S2] The clip says this ${stamp}.`);
  await expect(s1.getByTestId('voice-import-choose')).toBeDisabled();
  await s1.getByTestId('voice-transcript').fill(`The clip says this ${stamp}.`);
  await s1.getByTestId('voice-import-choose').click();
  await expect(s1.getByTestId('speaker-voice-transcript')).toHaveText(`The clip says this ${stamp}.`);
  await expect(s1.getByTestId('speaker-voice')).toContainText('2.0 s');
  await page.screenshot({ path: `${ARTIFACTS}/studio-voice-prompt.png` });

  // Kept with the project.
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
  await page.reload();
  await expect(s1.getByTestId('speaker-voice-transcript')).toHaveText(`The clip says this ${stamp}.`);

  // Promote a take of line 2 to be S2's voice: its line text becomes the transcript.
  const rows = page.getByTestId('line-row');
  await rows.nth(1).getByTestId('line-play').click();
  await expect(rows.nth(1).getByTestId('line-status')).toHaveText('Fresh', { timeout: 60_000 });
  await stopPlayback(page);
  await page.locator('[data-testid="take-item"][data-current="true"]').first().getByTestId('take-voice').click();
  const s2 = page.locator('[data-testid="speaker-item"][data-speaker="S2"]');
  await expect(s2.getByTestId('speaker-voice-transcript')).toContainText(`Second voice line ${stamp}.`);

  // Remove both, so later tests render with Dia's own voices; the removal is saved too.
  await s1.getByTestId('voice-remove').click();
  await s2.getByTestId('voice-remove').click();
  await expect(page.getByTestId('speaker-voice-transcript')).toHaveCount(0);
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
  await page.reload();
  await expect(page.getByTestId('speaker-item')).not.toHaveCount(0);
  await expect(page.getByTestId('speaker-voice-transcript')).toHaveCount(0);
  await page.getByTestId('settings-open').click();
  await page.getByTestId('settings-reset').click();
  await page.getByTestId('settings-close').click();
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
});
