/// <reference lib="dom" />
// Speakers' voice clips through the browser harness (its "file dialog" picks --voice-clip, which
// each test writes first): a stereo 48 kHz WAV is taken; a clip that is not a WAV, or a damaged
// one, is refused with a message naming the problem, and the speaker keeps the voice it had and
// the form keeps the transcript typed; a voice prompt the longest pass cannot hold makes the line
// fail with a reason the user can act on, shown in the line list and the gutter; a voice prompt
// travels in a .diaproj file.
import { expect, test, type Locator, type Page } from '@playwright/test';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { E2E_DATA_DIR, PROJECT_FILE, VOICE_CLIP } from './harness-paths.ts';
import { freshProject, gutterStates, notices, setMaxSeconds, wav16 } from './studio-helpers.ts';

/** A 16-bit PCM WAV of a gliding tone: `seconds` long, `channels` channels at `rate` Hz. */
function wavClip(seconds: number, rate: number, channels: number): Buffer {
  const frames = Math.round(seconds * rate);
  const data = Buffer.alloc(frames * channels * 2);
  for (let i = 0; i < frames; i++) {
    const t = i / rate;
    const s = Math.round(0.3 * Math.sin(2 * Math.PI * (150 + 50 * t) * t) * 32_767);
    for (let c = 0; c < channels; c++) data.writeInt16LE(s, 2 * (i * channels + c));
  }
  return wav16(data, rate, channels);
}

function pickClip(bytes: Buffer): void {
  mkdirSync(dirname(VOICE_CLIP), { recursive: true });
  writeFileSync(VOICE_CLIP, bytes);
}

/** Opens the speaker's import form, types the transcript and "chooses" the clip. */
async function importClip(page: Page, speaker: Locator, transcript: string): Promise<void> {
  await speaker.getByTestId('voice-import-open').click();
  await speaker.getByTestId('voice-transcript').fill(transcript);
  await speaker.getByTestId('voice-import-choose').click();
}

test('a clip that is not a usable WAV is refused; the speaker keeps its voice and the form its transcript', async ({ page }) => {
  const stamp = Date.now().toString(36);
  await freshProject(page, `Voices ${stamp}`, `[S1] A line for the voice ${stamp}.`);
  const s1 = page.locator('[data-testid="speaker-item"][data-speaker="S1"]');

  // A stereo 48 kHz WAV: taken as it is, its length shown.
  pickClip(wavClip(1.5, 48_000, 2));
  await importClip(page, s1, `The first clip ${stamp}.`);
  await expect(s1.getByTestId('speaker-voice-transcript')).toHaveText(`The first clip ${stamp}.`);
  await expect(s1.getByTestId('speaker-voice')).toContainText('1.5 s');
  await expect(s1.getByTestId('voice-import-form')).toHaveCount(0);

  // An MP3 renamed .wav is named as what it is.
  pickClip(Buffer.concat([Buffer.from('ID3\u0004\u0000\u0000\u0000\u0000\u0000\u0000', 'latin1'), Buffer.alloc(2000)]));
  await importClip(page, s1, `A replacement ${stamp}.`);
  await expect(notices(page)).toContainText('is an MP3 file: voice prompts are imported from WAV clips only');
  await expect(s1.getByTestId('voice-transcript')).toHaveValue(`A replacement ${stamp}.`);
  await expect(s1.getByTestId('speaker-voice-transcript')).toHaveText(`The first clip ${stamp}.`);

  // A WAV cut off inside its header.
  pickClip(wavClip(1, 44_100, 1).subarray(0, 30));
  await s1.getByTestId('voice-import-choose').click();
  await expect(notices(page)).toContainText('is not a readable WAV file');
  await expect(s1.getByTestId('voice-transcript')).toHaveValue(`A replacement ${stamp}.`);
  await expect(s1.getByTestId('speaker-voice-transcript')).toHaveText(`The first clip ${stamp}.`);

  // Still the first voice after a reload.
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
  await page.reload();
  await expect(s1.getByTestId('speaker-voice-transcript')).toHaveText(`The first clip ${stamp}.`);
  await expect(s1.getByTestId('speaker-voice')).toContainText('1.5 s');
});

// In the settings' terms (the Longest pass, the voice prompt), not the engine's decoder rows.
test('a voice prompt longer than the longest pass: the line fails, saying what to change', async ({ page }) => {
  test.setTimeout(120_000);
  const stamp = Date.now().toString(36);
  await freshProject(page, `Voice too long ${stamp}`, `[S1] The voice does not fit ${stamp}.`);
  const s1 = page.locator('[data-testid="speaker-item"][data-speaker="S1"]');
  pickClip(wavClip(3, 44_100, 1));
  await importClip(page, s1, `A three second clip ${stamp}.`);
  await expect(s1.getByTestId('speaker-voice')).toContainText('3.0 s');
  await setMaxSeconds(page, '2');

  const row = page.getByTestId('line-row').first();
  await row.getByTestId('line-play').click();
  await expect(row.getByTestId('line-status')).toHaveText('Failed', { timeout: 60_000 });
  await expect(gutterStates(page).first()).toHaveAttribute('data-state', 'error');
  // In the words of the panels the user changes: the Longest pass and the voice prompt.
  await expect(row.getByTestId('line-status')).toHaveAttribute('title', /Longest pass/);
  await expect(row.getByTestId('line-status')).toHaveAttribute('title', /voice prompt/);
});

test('a voice prompt travels in a .diaproj file and comes back with its transcript', async ({ page }) => {
  const stamp = Date.now().toString(36);
  const project = `Voice file ${stamp}`;
  await freshProject(page, project, `[S1] Carried in a file ${stamp}.`);
  const s1 = page.locator('[data-testid="speaker-item"][data-speaker="S1"]');
  pickClip(wavClip(1.2, 44_100, 1));
  await importClip(page, s1, `The travelling clip ${stamp}.`);
  await expect(s1.getByTestId('speaker-voice')).toContainText('1.2 s');
  await expect(page.getByTestId('save-state')).toHaveText('Saved');

  await page.getByTestId('projects-open').click();
  const dialog = page.getByTestId('projects-dialog');
  await dialog.getByTestId('project-file-save').click();
  const savedNotice = page.getByText(/^Saved .*\.diaproj: 0 takes, 1 voice prompts\.$/);
  await expect(savedNotice).toBeVisible();
  const fileName = (await savedNotice.textContent())!.match(/^Saved (.*\.diaproj):/)![1];
  copyFileSync(join(E2E_DATA_DIR, 'exports', fileName), PROJECT_FILE);

  // Dropped here, then brought back from the file alone.
  const mine = dialog.locator('[data-testid="project-item"]', { hasText: project });
  await mine.getByTestId('project-delete').click();
  await mine.getByTestId('project-delete-confirm').click();
  await expect(mine).toHaveCount(0);
  await dialog.getByTestId('project-file-open').click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('project-name')).toHaveText(project);
  await expect(s1.getByTestId('speaker-voice-transcript')).toHaveText(`The travelling clip ${stamp}.`);
  await expect(s1.getByTestId('speaker-voice')).toContainText('1.2 s');
});
