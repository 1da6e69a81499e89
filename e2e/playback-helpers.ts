// Shared by the e2e specs that play audio.
import { expect, type Page } from '@playwright/test';

/**
 * Stops playback if it is still going. Short demo takes can end on their own while the test is
 * still checking them, and then Stop is disabled; either way playback must end up stopped.
 */
export async function stopPlayback(page: Page): Promise<void> {
  const stop = page.getByTestId('stop');
  if (await stop.isEnabled()) await stop.click({ timeout: 2_000 }).catch(() => undefined);
  await expect(page.getByTestId('playback-status')).toHaveText('Not playing');
}
