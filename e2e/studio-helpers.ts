/// <reference lib="dom" />
// Steps several specs take the way a user does: open the studio, start a project of one's own (so a
// test neither meets nor leaves behind another spec's script, settings or voices), type a script,
// paste a long one, shorten the passes (the random demo model never stops by itself) and render a line.
import { expect, type Locator, type Page } from '@playwright/test';

export async function openStudio(page: Page): Promise<void> {
  await page.goto('/');
  await expect(page.getByTestId('project-name')).not.toHaveText(/Opening/);
  await expect(page.getByTestId('engine-status')).not.toHaveText(/Connecting/);
}

/** Creates a project from the Projects dialog and waits until it is the open one. */
export async function newProject(page: Page, name: string): Promise<void> {
  await page.getByTestId('projects-open').click();
  const dialog = page.getByTestId('projects-dialog');
  await expect(dialog).toBeVisible();
  await dialog.getByTestId('project-new-name').fill(name);
  await dialog.getByTestId('project-create').click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('project-name')).toHaveText(name);
}

/** Replaces the whole script with `text` and waits for the autosave. */
export async function typeScript(page: Page, text: string): Promise<void> {
  await page.locator('.cm-content').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(text);
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
}

/** A script of `count` alternating turns that wrap alike in a narrow window (line-list.spec measures by them). */
export function bigScript(count: number): string {
  return Array.from({ length: count }, (_, i) => `[S${(i % 2) + 1}] Line ${i}: (laughs) well, here are some words to read.`).join('\n');
}

/** Pastes `text` into the editor as the clipboard does; resolves with the time to the first frame after it. */
export function paste(page: Page, text: string): Promise<number> {
  return page.evaluate(async (data) => {
    const clipboardData = new DataTransfer();
    clipboardData.setData('text/plain', data);
    const start = performance.now();
    document.querySelector('.cm-content')?.dispatchEvent(new ClipboardEvent('paste', { clipboardData, bubbles: true, cancelable: true }));
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    return performance.now() - start;
  }, text);
}

export async function editorText(page: Page): Promise<string> {
  return (await page.locator('.cm-content').innerText()).trim();
}

/** Sets the project's longest pass in Settings. */
export async function setMaxSeconds(page: Page, seconds: string): Promise<void> {
  await page.getByTestId('settings-open').click();
  const panel = page.getByTestId('settings-panel');
  await expect(panel).toBeVisible();
  await panel.getByTestId('set-max-seconds').fill(seconds);
  await panel.getByTestId('set-max-seconds').press('Tab');
  await expect(panel).toContainText(`(${Math.round(Number(seconds) * (44_100 / 512))} decoder steps)`);
  await panel.getByTestId('settings-close').click();
  await expect(panel).toBeHidden();
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
}

/** A fresh project with short passes and `text` as its script: what most UI checks start from. */
export async function freshProject(page: Page, name: string, text: string): Promise<void> {
  await openStudio(page);
  await newProject(page, name);
  await setMaxSeconds(page, '2');
  await typeScript(page, text);
}

/** Plays line `i` with its row button until it is rendered (fresh) or read from the cache. */
export async function renderLine(page: Page, i: number): Promise<Locator> {
  const row = page.getByTestId('line-row').nth(i);
  await row.getByTestId('line-play').click();
  await expect(row.getByTestId('line-status')).toHaveText(/^\s*(Fresh|Cached)\s*$/, { timeout: 60_000 });
  return row;
}

/** The gutter marks of the editor's lines, in order. */
export function gutterStates(page: Page): Locator {
  return page.locator('.cm-line-state-gutter .cm-line-state:visible');
}

/** Notices (the toast live region). */
export function notices(page: Page): Locator {
  return page.getByTestId('notices');
}

/** A 16-bit PCM WAV file's bytes: `data` holds the interleaved samples, little-endian. */
export function wav16(data: Buffer, rate: number, channels: number): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/** Opens the Model panel once the engine answers, with its list of models drawn. */
export async function openModelPanel(page: Page): Promise<Locator> {
  await page.goto('/');
  await expect(page.getByTestId('engine-status')).not.toHaveText(/Connecting/);
  await page.getByRole('button', { name: 'Model…' }).click();
  const panel = page.getByRole('dialog', { name: 'Model' });
  await expect(panel).toBeVisible();
  await expect(panel.getByTestId('model-item').first()).toBeVisible();
  return panel;
}
