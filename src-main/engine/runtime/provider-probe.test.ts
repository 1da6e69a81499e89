// The probe must really run its fp16 MatMul: on the CPU it succeeds (the check that catches I/O
// the binding rejects, which made every provider look unavailable), and a provider that cannot
// start is reported with its reason instead of throwing.
import { describe, expect, it } from 'vitest';
import { probeProvider } from './provider-probe.ts';

describe('probeProvider', () => {
  it('runs the fp16 test MatMul on the CPU provider', async () => {
    expect(await probeProvider('cpu')).toEqual({ ok: true });
  });

  it('reports a provider that cannot start, with the reason', async () => {
    const result = await probeProvider('no-such-provider');
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).not.toBe('');
  });
});
