// Typed buffers joined end to end: streamed audio chunks, a line's passes, weight matrices stacked
// by rows (float32), encoded file blocks (bytes).

/** The parts, in order, in one new buffer from `alloc`. */
function join<T extends Float32Array | Uint8Array>(parts: Iterable<T>, alloc: (length: number) => T): T {
  const list = [...parts];
  const out = alloc(list.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of list) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The parts, in order, in one new buffer. */
export function concatFloat32(parts: Iterable<Float32Array>): Float32Array {
  return join(parts, (n) => new Float32Array(n));
}

/** The parts, in order, in one new buffer. */
export function concatBytes(parts: Iterable<Uint8Array>): Uint8Array {
  return join(parts, (n) => new Uint8Array(n));
}
