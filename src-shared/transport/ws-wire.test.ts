import { describe, expect, it } from 'vitest';
import { BINARY_MAGIC, decodeClientMessage, decodeServerBinary, decodeServerText, encodeClientMessage, encodeServerMessage } from './ws-wire.ts';

const audioEvent = (samples: Float32Array) => ({ type: 'render:audio', renderId: 'r-1', seq: 3, sampleRate: 44_100, samples });

describe('WebSocket wire format', () => {
  it('sends audio events as binary float32 and restores them bit for bit', () => {
    const samples = new Float32Array([0, 1, -1, 0.1, -0.25, 1e-7, 3.4e38]);
    const frame = encodeServerMessage({ t: 'event', event: audioEvent(samples) });
    expect(frame).toBeInstanceOf(Uint8Array);
    const bytes = frame as Uint8Array;
    // Compact: a fixed prefix, a short header, then 4 bytes per sample.
    expect(bytes.length).toBeLessThan(8 + 120 + samples.length * 4);
    const decoded = decodeServerBinary(bytes.slice().buffer as ArrayBuffer);
    expect(decoded).toEqual({ t: 'event', event: audioEvent(samples) });
    expect(((decoded as { event: { samples: Float32Array } }).event.samples)).toBeInstanceOf(Float32Array);
  });

  it('decodes frames that sit at an odd offset of a larger buffer (Node Buffers from a pool)', () => {
    const frame = encodeServerMessage({ t: 'event', event: audioEvent(new Float32Array([0.5, -0.5])) }) as Uint8Array;
    const pool = new Uint8Array(frame.length + 3);
    pool.set(frame, 3);
    const decoded = decodeServerBinary(pool.subarray(3));
    expect(Array.from((decoded as { event: { samples: Float32Array } }).event.samples)).toEqual([0.5, -0.5]);
  });

  it('sends replies and audio-free events as JSON text', () => {
    const reply = encodeServerMessage({ t: 'reply', id: 7, envelope: { ok: true, value: null } });
    expect(typeof reply).toBe('string');
    expect(decodeServerText(reply as string)).toEqual({ t: 'reply', id: 7, envelope: { ok: true, value: null } });
  });

  const frameWith = (mutate: (view: DataView, bytes: Uint8Array) => Uint8Array | void): Uint8Array => {
    const bytes = (encodeServerMessage({ t: 'event', event: audioEvent(new Float32Array([1, 2])) }) as Uint8Array).slice();
    return mutate(new DataView(bytes.buffer), bytes) ?? bytes;
  };
  const malformed: [string, Uint8Array, string][] = [
    ['too short', new Uint8Array(5), 'shorter'],
    ['wrong magic', frameWith((v) => v.setUint32(0, BINARY_MAGIC + 1, true)), 'magic'],
    ['header longer than the frame', frameWith((v) => v.setUint32(4, 1e6, true)), 'does not fit'],
    ['truncated samples', frameWith((_v, b) => b.subarray(0, b.length - 2)), 'sample bytes'],
    ['extra trailing bytes', frameWith((_v, b) => { const out = new Uint8Array(b.length + 4); out.set(b); return out; }), 'sample bytes'],
    ['header that is not JSON', frameWith((_v, b) => { b[8] = 0x7b; b[9] = 0x7b; }), 'not UTF-8 JSON'],
  ];
  for (const [name, bytes, why] of malformed) {
    it(`rejects a binary frame with ${name}`, () => {
      expect(() => decodeServerBinary(bytes)).toThrow(why);
    });
  }

  it('accepts only well-formed calls from clients', () => {
    expect(decodeClientMessage(encodeClientMessage({ t: 'call', id: 1, method: 'getAppInfo' }))).toEqual({ t: 'call', id: 1, method: 'getAppInfo' });
    for (const bad of ['', 'null', '[]', '{"t":"call","id":-1,"method":"x"}', '{"t":"call","id":1.5,"method":"x"}', '{"t":"eval","id":1,"method":"x"}', '{"t":"call","id":1,"method":"x","extra":1}', `{"t":"call","id":1,"method":"${'m'.repeat(65)}"}`]) {
      expect(() => decodeClientMessage(bad), bad).toThrow(expect.objectContaining({ code: 'invalid-input' }));
    }
  });
});
