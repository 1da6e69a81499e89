// Fans app events out from the services to every connected transport (the Electron window, each
// harness WebSocket). Events are validated as they are emitted, so a service bug shows up here,
// next to its cause, instead of as a dropped event in some renderer.
import * as v from 'valibot';
import { AppEventSchema, type AppEvent, type AppEventListener } from '../../src-shared/api.ts';
import { describeIssues } from '../../src-shared/api/validate.ts';
import type { AppEventSink } from './services.ts';

export class AppEventHub implements AppEventSink {
  private readonly listeners = new Set<AppEventListener>();
  private readonly onInvalid: (message: string) => void;

  constructor(onInvalid: (message: string) => void = (message) => console.error(message)) {
    this.onInvalid = onInvalid;
  }

  emit(event: AppEvent): void {
    const r = v.safeParse(AppEventSchema, event);
    if (!r.success) {
      const type = typeof (event as { type?: unknown })?.type === 'string' ? (event as { type: string }).type : 'unknown';
      this.onInvalid(`Dropped a malformed ${type} event: ${describeIssues(r.issues, 'event')}`);
      return;
    }
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        // A broken transport (closed socket, destroyed window) must not stop the others.
        this.onInvalid(`An event listener failed on ${event.type}: ${(err as Error).message}`);
      }
    }
  }

  subscribe(listener: AppEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }
}
