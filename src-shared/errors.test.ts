import { describe, expect, it } from 'vitest';
import { AppError, MAX_ERROR_MESSAGE_CHARS } from './errors.ts';
import { parseAppEvent, unwrapEnvelope } from './transport/messages.ts';

describe('AppError.toData', () => {
  it('keeps a message within the limit as it is', () => {
    expect(new AppError('not-found', 'No take 3').toData()).toEqual({ code: 'not-found', message: 'No take 3' });
  });

  it('shortens a long message so the error event still reaches the renderer', () => {
    // A corrupt manifest's validation message can embed a whole 5000-character value.
    const err = new AppError('model-corrupt', `Invalid manifest.json: name "${'x'.repeat(5_000)}" is too long`);
    const data = err.toData();
    expect(data.code).toBe('model-corrupt');
    expect(data.message.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_CHARS);
    expect(data.message.startsWith('Invalid manifest.json: name "xxx')).toBe(true);
    expect(data.message).toMatch(/shortened\)$/);
    expect(parseAppEvent({ type: 'render:error', renderId: 'r1', error: data })).toMatchObject({ error: data });
    expect(() => unwrapEnvelope('getAppInfo', { ok: false, error: data })).toThrow(expect.objectContaining({ code: 'model-corrupt' }));
  });

  it('never cuts a character in half', () => {
    for (let pad = 0; pad < 40; pad++) {
      const message = 'a'.repeat(pad) + '😀'.repeat(MAX_ERROR_MESSAGE_CHARS);
      const out = AppError.fromUnknown(new Error(message)).toData().message;
      expect(out.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_CHARS);
      expect(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(out)).toBe(false);
    }
  });
});
