/// <reference lib="dom" />
// Export from the UI through the browser harness: render lines with the demo model, open the
// export panel, export, and find the files in the harness's export folder (the harness stands in
// for the save dialog; the page never sends a path).
import { expect, test, type Page } from '@playwright/test';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { E2E_DATA_DIR } from './harness-paths.ts';

const ARTIFACTS = 'e2e/artifacts';
const EXPORTS = join(E2E_DATA_DIR, 'exports');

test.beforeAll(() => mkdirSync(ARTIFACTS, { recursive: true }));

/** Replaces the script, waits for the save, and renders every line with the demo model. */
async function scriptWithTakes(page: Page, text: string, lines: number): Promise<void> {
  await page.goto('/');
  await expect(page.getByTestId('project-name')).not.toHaveText(/Opening/);
  await page.locator('.cm-content').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(text);
  await expect(page.getByTestId('line-row')).toHaveCount(lines);
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
  for (let i = 0; i < lines; i++) {
    const row = page.getByTestId('line-row').nth(i);
    await row.getByTestId('line-play').click();
    await expect(row.getByTestId('line-status')).toHaveText(/Fresh|Cached/, { timeout: 60_000 });
  }
}

/** Starts the export and returns the name of the file or folder the harness wrote. */
async function exportNow(page: Page, files: number): Promise<string> {
  await page.getByTestId('export-start').click();
  const result = page.getByTestId('export-result');
  const prefix = `Wrote ${files} file${files === 1 ? '' : 's'} to `;
  await expect(result).toHaveText(new RegExp(`^${prefix}`), { timeout: 60_000 });
  return (await result.textContent())!.slice(prefix.length).replace(/ \(.*\)$/, '').trim();
}

/** Start times of the cues of an SRT file, in ms. */
function srtStarts(file: string): number[] {
  return [...readFileSync(file, 'utf8').matchAll(/^(\d\d):(\d\d):(\d\d),(\d{3}) -->/gm)].map(
    (m) => ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number(m[4]),
  );
}

/** Channel count and 16-bit samples (interleaved) of a PCM WAV file, read from its chunks. */
function readWav16(file: string): { channels: number; bits: number; samples: Int16Array } {
  const bytes = readFileSync(file);
  expect(bytes.toString('ascii', 0, 4)).toBe('RIFF');
  expect(bytes.toString('ascii', 8, 12)).toBe('WAVE');
  let channels = 0;
  let bits = 0;
  for (let at = 12; at + 8 <= bytes.length; ) {
    const id = bytes.toString('ascii', at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    if (id === 'fmt ') {
      channels = bytes.readUInt16LE(at + 10);
      bits = bytes.readUInt16LE(at + 22);
    } else if (id === 'data') {
      const data = bytes.subarray(at + 8, at + 8 + size);
      return { channels, bits, samples: new Int16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) };
    }
    at += 8 + size + (size % 2);
  }
  throw new Error(`${file} has no data chunk`);
}

test('exports the chosen takes as a mixdown from the export panel', async ({ page }) => {
  test.setTimeout(120_000);
  const stamp = Date.now().toString(36);
  await scriptWithTakes(page, `[S1] Export check ${stamp}.`, 1);

  await page.getByTestId('export-open').click();
  await page.getByTestId('export-kind').selectOption('mix');
  await page.getByTestId('export-format').selectOption('wav16');
  await page.getByTestId('export-loudness').selectOption('-16');
  const name = await exportNow(page, 1);
  expect(statSync(join(EXPORTS, name)).size).toBeGreaterThan(44);
  await page.screenshot({ path: `${ARTIFACTS}/studio-export.png` });
});

test('names line files by pattern, applies a per-line gap, pans a stereo mix', async ({ page }) => {
  test.setTimeout(240_000);
  const stamp = Date.now().toString(36);
  await scriptWithTakes(page, `[S1] Layout one ${stamp}.\n[S2] Layout two ${stamp}.`, 2);
  await page.getByTestId('export-open').click();
  const panel = page.getByTestId('export-panel');

  // Naming pattern: an unknown token is refused inline and Export is disabled.
  await page.getByTestId('export-kind').selectOption('lines');
  await page.getByTestId('export-format').selectOption('wav16');
  await page.getByTestId('export-loudness').selectOption('off');
  const naming = page.getByTestId('export-naming');
  await naming.fill('{index}-{bogus}');
  await expect(panel.getByTestId('export-naming-error')).toContainText('may only use the tokens');
  await expect(naming).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByTestId('export-start')).toBeDisabled();
  await naming.fill('{index}_{name}_{text}');
  await expect(panel.getByTestId('export-naming-example')).toHaveText(`Example: 001_Speaker 1_Layout-one-${stamp}.wav`);
  const lineFolder = await exportNow(page, 2);
  expect(readdirSync(join(EXPORTS, lineFolder)).sort()).toEqual([`001_Speaker 1_Layout-one-${stamp}.wav`, `002_Speaker 2_Layout-two-${stamp}.wav`]);

  // Subtitles with the global gap, then with a per-line gap after line 1 saved in the project.
  await page.getByTestId('export-kind').selectOption('subtitles');
  await page.getByTestId('export-text-format').selectOption('srt');
  await page.getByTestId('export-gap').fill('400');
  const timing = page.getByTestId('export-line-timing');
  await timing.locator('summary').click();
  // The page reopens the last project: clear a gap an earlier run may have left.
  const gapAfter = timing.getByTestId('export-gap-after').first();
  await gapAfter.fill('');
  await gapAfter.press('Tab');
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
  const before = srtStarts(join(EXPORTS, await exportNow(page, 1)));
  expect(before).toHaveLength(2);
  await gapAfter.fill('1500');
  await gapAfter.press('Tab');
  await expect(timing.locator('summary')).toHaveText('Line timing (1 line set)');
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
  const after = srtStarts(join(EXPORTS, await exportNow(page, 1)));
  expect(after[0]).toBe(before[0]);
  expect(after[1] - before[1]).toBe(1100); // 1500 ms instead of the global 400 ms

  // A stereo mix with speaker 1 panned hard left by keyboard: two channels, line 1 on the left only.
  await page.getByTestId('export-kind').selectOption('mix');
  await page.getByTestId('export-format').selectOption('wav16');
  await page.getByTestId('export-loudness').selectOption('off');
  await page.getByTestId('export-stereo').check();
  const pan = page.getByTestId('export-pan-S1');
  await pan.focus();
  await pan.press('Home');
  await expect(panel.locator('output[for="pan-S1"]')).toHaveText('L 100');
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
  await page.screenshot({ path: `${ARTIFACTS}/studio-export-layout.png` });
  const wav = readWav16(join(EXPORTS, await exportNow(page, 1)));
  expect(wav.channels).toBe(2);
  expect(wav.bits).toBe(16);
  // Line 1 ends where cue 2 starts less the 1500 ms gap.
  const line1End = Math.floor(((after[1] - 1500) / 1000) * 44_100);
  let left = 0;
  let right = 0;
  for (let i = 0; i < line1End; i++) {
    left += wav.samples[2 * i] ** 2;
    right += wav.samples[2 * i + 1] ** 2;
  }
  expect(left).toBeGreaterThan(0);
  expect(right / left).toBeLessThan(1e-3); // the line panned left: (nearly) nothing on the right

  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: `${ARTIFACTS}/studio-export-layout-dark.png` });
  // Leave the project as later runs expect it: no pans, no per-line timing.
  await timing.getByRole('button', { name: 'Clear line timing and pans' }).click();
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
});
