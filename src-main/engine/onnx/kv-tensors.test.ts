import { describe, expect, it } from 'vitest';
import { asKvData, kvTensor } from './kv-tensors.ts';

describe('K/V tensors', () => {
  it('passes float16 K/V to the binding as the half bits themselves, float32 as is', () => {
    const bits = Uint16Array.of(0x3c00, 0xc000, 0x7bff, 0);
    const half = kvTensor(bits, [2, 2]);
    expect(half.type).toBe('float16');
    expect(half.data).toBe(bits);
    expect(half.dims).toEqual([2, 2]);
    const floats = Float32Array.of(1, 2);
    const full = kvTensor(floats, [2]);
    expect([full.type, full.data]).toEqual(['float32', floats]);
  });

  it('reads graph outputs as the expected element array, and refuses the other', () => {
    const viaFloat16 = asKvData(new Float16Array(Uint16Array.of(0x3c00, 0x4000).buffer), 'float16');
    expect(viaFloat16).toBeInstanceOf(Uint16Array);
    expect(Array.from(viaFloat16)).toEqual([0x3c00, 0x4000]);
    expect(() => asKvData(new Float32Array(2), 'float16')).toThrow(/float16/);
    expect(() => asKvData(new Uint16Array(2), 'float32')).toThrow(/float32/);
  });
});
