// Electron IPC channel names. One invoke channel per API method (main registers exactly these, the
// preload binds each exposed function to exactly one), and one channel for events from main.
import type { ApiMethodName } from '../api.ts';

export const IPC_CHANNEL_PREFIX = 'dia-studio:';
export const IPC_EVENT_CHANNEL = 'dia-studio:event';

export function ipcChannelFor(method: ApiMethodName): string {
  return `${IPC_CHANNEL_PREFIX}call:${method}`;
}
