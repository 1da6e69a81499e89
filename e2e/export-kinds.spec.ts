/// <reference lib="dom" />
// The export panel's other outputs through the browser harness, read back from the files written:
// stems (one FLAC per speaker), a cue list (CSV), WebVTT subtitles, an MP3 and a 24-bit 48 kHz
// mixdown; lines without a take are left out and the result says which and why; a refused option disables
// Export; a project without any take gets a clear error and no file.
import { expect, test, type Page } from '@playwright/test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stopPlayback } from './playback-helpers.ts';
import { freshProject, renderLine } from './studio-helpers.ts';
import { E2E_DATA_DIR } from './harness-paths.ts';

const EXPORTS = join(E2E_DATA_DIR, 'exports');

function exported(): string[] {
  return existsSync(EXPORTS) ? readdirSync(EXPORTS).sort() : [];
}

/** Starts the export and returns the name of what the harness wrote, checking the reported count. */
async function exportNow(page: Page, files: number, skipped: number): Promise<string> {
  await page.getByTestId('export-start').click();
  const result = page.getByTestId('export-result');
  const left = skipped ? ` \\(${skipped} line\\(s\\) without a take left out\\)` : '';
  await expect(result).toHaveText(new RegExp(`^Wrote ${files} files? to .+${left}$`), { timeout: 60_000 });
  return (await result.textContent())!.replace(/^Wrote \d+ files? to /, '').replace(/ \(\d+ line\(s\) without a take left out\)$/, '');
}

/** Sample rate and bits per sample from a WAV file's fmt chunk. */
function wavFormat(file: string): { rate: number; bits: number; channels: number } {
  const bytes = readFileSync(file);
  expect(bytes.toString('ascii', 0, 4)).toBe('RIFF');
  for (let at = 12; at + 8 <= bytes.length; ) {
    const size = bytes.readUInt32LE(at + 4);
    if (bytes.toString('ascii', at, at + 4) === 'fmt ') {
      return { channels: bytes.readUInt16LE(at + 10), rate: bytes.readUInt32LE(at + 12), bits: bytes.readUInt16LE(at + 22) };
    }
    at += 8 + size + (size % 2);
  }
  throw new Error(`${file} has no fmt chunk`);
}

test('a project without takes cannot be exported: a clear error and no file', async ({ page }) => {
  const stamp = Date.now().toString(36);
  await freshProject(page, `Nothing yet ${stamp}`, `[S1] Not rendered ${stamp}.`);
  const before = exported();
  await page.getByTestId('export-open').click();
  const panel = page.getByTestId('export-panel');
  await page.getByTestId('export-kind').selectOption('mix');
  await page.getByTestId('export-start').click();
  await expect(panel.getByRole('alert')).toContainText('no line has a chosen take');
  await page.getByTestId('export-kind').selectOption('lines');
  await page.getByTestId('export-start').click();
  await expect(panel.getByRole('alert')).toContainText('no line has a chosen take');
  expect(exported()).toEqual(before);
});

test('stems, cue list, WebVTT, MP3 and a 24-bit 48 kHz mix, leaving out the line without a take', async ({ page }) => {
  test.setTimeout(180_000);
  const stamp = Date.now().toString(36);
  const project = `Kinds ${stamp}`;
  await freshProject(page, project, `[S1] First of three ${stamp}.\n[S2] Yes, with a comma ${stamp}.\n[S1] Left without a take ${stamp}.`);
  await renderLine(page, 0);
  await stopPlayback(page);
  await renderLine(page, 1);
  await stopPlayback(page);

  await page.getByTestId('export-open').click();
  const panel = page.getByTestId('export-panel');
  const kind = page.getByTestId('export-kind');

  // A refused gap: said under the fields, Export disabled until it is fixed.
  await kind.selectOption('mix');
  await page.getByTestId('export-gap').fill('-5');
  await expect(panel.getByTestId('export-options-error')).toContainText('Gap:');
  await expect(page.getByTestId('export-start')).toBeDisabled();
  await page.getByTestId('export-gap').fill('400');
  await expect(panel.getByTestId('export-options-error')).toHaveCount(0);
  await expect(page.getByTestId('export-start')).toBeEnabled();

  // Stems: one FLAC per speaker, named by the default pattern {project}-{name}.
  await kind.selectOption('stems');
  await page.getByTestId('export-format').selectOption('flac16');
  await page.getByTestId('export-loudness').selectOption('off');
  const stems = await exportNow(page, 2, 1);
  // Which line was left out, and why.
  await expect(page.getByTestId('export-skipped')).toHaveText(`Line 3 ("Left without a take ${stamp}.") has no chosen take`);
  const stemFiles = readdirSync(join(EXPORTS, stems)).sort();
  expect(stemFiles).toEqual([`${project}-Speaker 1.flac`, `${project}-Speaker 2.flac`]);
  for (const f of stemFiles) expect(readFileSync(join(EXPORTS, stems, f)).toString('ascii', 0, 4)).toBe('fLaC');

  // Cue list: a header and the two lines with a take, the comma quoted.
  await kind.selectOption('cues');
  const cues = readFileSync(join(EXPORTS, await exportNow(page, 1, 1)), 'utf8').trim().split(/\r?\n/);
  expect(cues).toHaveLength(3);
  expect(cues[0]).toMatch(/^index,/);
  expect(cues[1]).toContain(`First of three ${stamp}.`);
  expect(cues[2]).toContain(`"Yes, with a comma ${stamp}."`);
  expect(cues.join('\n')).not.toContain('Left without a take');

  // WebVTT subtitles with both cues.
  await kind.selectOption('subtitles');
  await page.getByTestId('export-text-format').selectOption('vtt');
  const vtt = readFileSync(join(EXPORTS, await exportNow(page, 1, 1)), 'utf8');
  expect(vtt.startsWith('WEBVTT')).toBe(true);
  expect(vtt.match(/-->/g)).toHaveLength(2);
  expect(vtt).toContain(`Yes, with a comma ${stamp}.`);

  // An MP3 mixdown.
  await kind.selectOption('mix');
  await page.getByTestId('export-format').selectOption('mp3');
  const mp3Name = await exportNow(page, 1, 1);
  expect(mp3Name.endsWith('.mp3')).toBe(true);
  const mp3 = readFileSync(join(EXPORTS, mp3Name));
  expect(mp3.toString('ascii', 0, 3) === 'ID3' || (mp3[0] === 0xff && (mp3[1] & 0xe0) === 0xe0)).toBe(true);
  expect(mp3.length).toBeGreaterThan(1000);

  // A 24-bit WAV at 48 kHz.
  await page.getByTestId('export-format').selectOption('wav24');
  await panel.getByLabel('Rate').selectOption('48000');
  const wav = await exportNow(page, 1, 1);
  expect(wavFormat(join(EXPORTS, wav))).toEqual({ rate: 48_000, bits: 24, channels: 1 });
});
