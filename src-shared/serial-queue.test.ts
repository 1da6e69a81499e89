import { describe, expect, it } from 'vitest';
import { SerialQueue } from './serial-queue.ts';

const later = <T>(value: T, fail = false): Promise<T> =>
  new Promise<T>((resolve, reject) => setTimeout(() => (fail ? reject(new Error(String(value))) : resolve(value)), 0));

describe('SerialQueue', () => {
  it('runs work one piece at a time in the order asked, each with its own result', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    let running = 0;
    const piece = (name: string) => async () => {
      expect(running).toBe(0);
      running++;
      log.push(`start ${name}`);
      await later(null);
      log.push(`end ${name}`);
      running--;
      return name;
    };
    const results = [queue.run(piece('a')), queue.run(piece('b')), queue.run(piece('c'))];
    expect(log).toEqual([]); // nothing starts synchronously
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('fails only the caller of a piece that fails; the next piece still runs after it', async () => {
    const queue = new SerialQueue();
    const order: string[] = [];
    const failing = queue.run(async () => {
      order.push('failing');
      return later('broken', true);
    });
    const thrown = queue.run(() => {
      order.push('thrown');
      throw new Error('thrown synchronously');
    });
    const next = queue.run(async () => {
      order.push('next');
      return 42;
    });
    await expect(failing).rejects.toThrow('broken');
    await expect(thrown).rejects.toThrow('thrown synchronously');
    expect(await next).toBe(42);
    expect(order).toEqual(['failing', 'thrown', 'next']);
  });

  it('idle() waits for everything asked before it, resolves even after a failure, and queues nothing', async () => {
    const queue = new SerialQueue();
    expect(await queue.idle()).toBeUndefined();
    let settled = 0;
    void queue.run(() => later('one')).then(() => settled++);
    void queue.run(() => later('two', true)).catch(() => settled++);
    const idle = queue.idle();
    const after = queue.run(async () => settled);
    await idle;
    expect(settled).toBe(2);
    expect(await after).toBe(2);
  });
});
