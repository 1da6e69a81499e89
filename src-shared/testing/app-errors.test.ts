import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { errorOf, expectAppError, expectRejection, rejectionOf } from './app-errors.ts';

const notFound = new AppError('not-found', 'no take for line 3');

describe('AppError test helpers', () => {
  it('return the AppError thrown or rejected with', async () => {
    expect(errorOf(() => { throw notFound; })).toBe(notFound);
    expect(await rejectionOf(Promise.reject(notFound))).toBe(notFound);
    expect(expectAppError(() => { throw notFound; }, 'not-found', 'line 3')).toBe(notFound);
    expect(await expectRejection(Promise.reject(notFound), 'not-found', /take for line \d/)).toBe(notFound);
  });

  it('fail when nothing is thrown, the promise resolves, or the error is not an AppError', async () => {
    expect(() => errorOf(() => 1)).toThrow('nothing was thrown');
    await expect(rejectionOf(Promise.resolve(1))).rejects.toThrow('the promise resolved');
    expect(() => errorOf(() => { throw new Error('plain'); })).toThrow(/AppError/);
    await expect(rejectionOf(Promise.reject(new TypeError('plain')))).rejects.toThrow(/AppError/);
  });

  it('fail on another code or message', async () => {
    expect(() => expectAppError(() => { throw notFound; }, 'exists', 'line 3')).toThrow();
    expect(() => expectAppError(() => { throw notFound; }, 'not-found', 'line 4')).toThrow();
    await expect(expectRejection(Promise.reject(notFound), 'not-found', /^take/)).rejects.toThrow();
  });
});
