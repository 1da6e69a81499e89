// Which processes have a model loaded: each holder (an app window's backend, the browser harness,
// a CLI render) holds a 'loaded' mark of the model folder (staging.ts markHeld) while it has the
// model loaded, so another process (npm run model:remove) does not delete the folder under it.
import path from 'node:path';
import { AppError } from '../../../src-shared/errors.ts';
import type { ReleaseLock } from './process-lock.ts';
import { liveHolders, markHeld } from './staging.ts';

/** Marks model `id` (in the models folder `root`) as loaded by this process until the returned function is called. */
export function markLoaded(root: string, id: string): Promise<ReleaseLock> {
  return markHeld(path.join(root, id), 'loaded');
}

/** Refuses (code 'exists') to remove model `id` while another live process has it loaded. */
export async function refuseRemoveIfLoadedElsewhere(root: string, id: string): Promise<void> {
  const holders = (await liveHolders(path.join(root, id), 'loaded')).filter((h) => h.pid !== process.pid);
  if (!holders.length) return;
  const who = holders.length === 1 ? `process ${holders[0].pid}` : `processes ${holders.map((h) => h.pid).join(', ')}`;
  throw new AppError('exists', `Cannot remove model ${id}: Dia Studio (${who}) has it loaded. Remove it there (Model panel → Remove… unloads it first), choose another model there with Use, or close it, then try again (if no Dia Studio is running, delete ${holders.map((h) => h.mark).join(' and ')})`);
}
