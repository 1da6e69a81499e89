// The preload's bridge, present only inside the Electron app.
import type { AppBridge } from '../src-shared/api.ts';

declare global {
  interface Window {
    readonly app?: AppBridge;
  }
}

export {};
