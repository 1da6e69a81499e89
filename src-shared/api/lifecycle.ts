// The window's close handshake (desktop app only): main asks the page to save before it closes
// the window (app:close-requested), the page answers once its edits are stored (readyToClose).
import * as v from 'valibot';
import { JobIdSchema } from './common.ts';

export const ReadyToCloseRequestSchema = v.strictObject({
  requestId: JobIdSchema,
  /** False when the page's last edits could not be saved: main asks the user before closing. */
  saved: v.boolean(),
});

export const LifecycleEventSchemas = {
  'app:close-requested': v.strictObject({ type: v.literal('app:close-requested'), requestId: JobIdSchema }),
};
