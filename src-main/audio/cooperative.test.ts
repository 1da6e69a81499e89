import { describe, expect, it } from 'vitest';
import { runSteps } from './cooperative.ts';

function* countTo(units: number): Generator<number, string> {
  for (let done = 1; done <= units; done++) yield done;
  return `counted ${units}`;
}

describe('runSteps', () => {
  it('reports progress between steps, gives the event loop a turn each time, and resolves to what the generator returns', async () => {
    const progress: number[] = [];
    let turns = 0;
    let ticking = true;
    const tick = (): void => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const result = await runSteps(countTo(4), 8, { onProgress: (f) => progress.push(f) });
    ticking = false;
    expect(result).toBe('counted 4');
    expect(progress).toEqual([0.125, 0.25, 0.375, 0.5]);
    expect(turns).toBeGreaterThanOrEqual(3);
    expect(await runSteps(countTo(0), 0, {})).toBe('counted 0');
  });

  it('stops with AppError cancelled once the signal is aborted, without running the rest', async () => {
    const controller = new AbortController();
    let reached = 0;
    function* steps(): Generator<number, number> {
      for (reached = 1; reached <= 10; reached++) {
        if (reached === 2) controller.abort();
        yield reached;
      }
      return reached;
    }
    await expect(runSteps(steps(), 10, {})).resolves.toBe(11);
    reached = 0;
    await expect(runSteps(steps(), 10, { signal: controller.signal })).rejects.toMatchObject({ code: 'cancelled' });
    expect(reached).toBe(1);
  });
});
