import { describe, expect, it } from 'vitest';
import { applyRenderEvent, lineOfRenderId, renders, trackRender } from './renders.svelte.ts';

const voicing = { text: 'Hello.', speaker: 'S1' };

describe('the line each render belongs to', () => {
  it('is forgotten when a render ends, also one a newer render of its line replaced', () => {
    trackRender('line-a', voicing, 'older');
    // Play again (or Render all) before the first render ended: the newer one describes the line.
    trackRender('line-a', voicing, 'newer');
    applyRenderEvent({ type: 'render:error', renderId: 'older', error: { code: 'cancelled', message: 'Render cancelled' } });
    expect(lineOfRenderId('older')).toBeUndefined();
    // Its late end changes nothing the line shows.
    expect(renders.byLine['line-a']).toMatchObject({ renderId: 'newer', status: 'queued' });
    applyRenderEvent({ type: 'render:done', renderId: 'newer', takeId: 3, cached: false, cut: false });
    expect(lineOfRenderId('newer')).toBeUndefined();
    expect(renders.byLine['line-a']).toMatchObject({ status: 'done', takeId: 3 });
  });
});
