import { describe, expect, it } from 'vitest';
import { JoinedCall } from './joined-call.ts';

describe('JoinedCall', () => {
  it('joins the same call while it runs, and starts anew once it settled or for another key', async () => {
    const calls = new JoinedCall<string>();
    let started = 0;
    const start = (value: string) => () => {
      started++;
      return new Promise<string>((resolve) => setTimeout(() => resolve(value), 0));
    };
    const [a, b] = [calls.run('a', start('first')), calls.run('a', start('second'))];
    expect(await Promise.all([a, b])).toEqual(['first', 'first']);
    expect(started).toBe(1);
    expect(await calls.run('a', start('third'))).toBe('third');
    const [c, d] = [calls.run('c', start('c')), calls.run('d', start('d'))];
    expect(await Promise.all([c, d])).toEqual(['c', 'd']);
    expect(await Promise.all([calls.run('e', start('e1')), calls.run('e', start('e2'), false)])).toEqual(['e1', 'e2']);
    expect(started).toBe(6);
  });

  it('passes a failure to every caller that joined, and tries again on the next call', async () => {
    const calls = new JoinedCall<number>();
    let n = 0;
    const failing = (): Promise<number> => Promise.reject(new Error(`failed ${++n}`));
    await expect(Promise.all([calls.run('k', failing), calls.run('k', failing)])).rejects.toThrow('failed 1');
    await expect(calls.run('k', failing)).rejects.toThrow('failed 2');
  });
});
