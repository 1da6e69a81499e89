// A window closed while the app is still starting up (its startup project not open yet) closes at
// once: close requests are answered from the moment the app is connected.
import { describe, expect, it } from 'vitest';
import { startTestBackend, until } from '../state/state-test-support.ts';
import { startApp } from '../state/app.svelte.ts';
import { flushSave } from '../state/project.svelte.ts';
import { answerCloseRequests } from './close-flush.ts';

describe('a close request during startup', () => {
  it('is answered before the startup project has opened', async () => {
    const backend = await startTestBackend();
    const held = backend.hold('listProjects', () => true);
    let stop: (() => void) | undefined;
    const started = startApp((api) => (stop = answerCloseRequests(api, flushSave)));
    await until(() => stop !== undefined);
    backend.emit({ type: 'app:close-requested', requestId: 'startup-close' });
    await until(() => (backend.calls.readyToClose ?? 0) === 1);
    // The startup requests are still waiting.
    expect(backend.calls.openProject ?? 0).toBe(0);
    await held.release();
    await started;
    stop?.();
  });
});
