// The page's side of the desktop app's close handshake: when main asks (app:close-requested), save
// what the autosave still holds, waiting out a save in flight, then answer readyToClose, so the
// window closes only once the last edits are stored, or with the user's say when they could not be.
import type { AppApi } from '../../src-shared/api.ts';

/** Answers every close request with `flush`'s outcome; returns the function that stops answering. */
export function answerCloseRequests(api: AppApi, flush: () => Promise<boolean>): () => void {
  return api.subscribe((event) => {
    if (event.type === 'app:close-requested') void saveThenAnswer(api, flush, event.requestId);
  });
}

async function saveThenAnswer(api: AppApi, flush: () => Promise<boolean>, requestId: string): Promise<void> {
  let saved = false;
  try {
    // A failed save keeps its edits pending; closing tries them once more before giving up.
    saved = (await flush()) || (await flush());
  } catch (err) {
    console.error('Dia Studio: saving before the window closes failed:', err);
  }
  try {
    await api.readyToClose({ requestId, saved });
  } catch (err) {
    // Main closes the window after its bounded wait anyway.
    console.error('Dia Studio: could not confirm the save before closing:', err);
  }
}
