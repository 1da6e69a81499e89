// Float32 buffers joined end to end: streamed audio chunks, a line's passes, weight matrices
// stacked by rows.

/** The parts, in order, in one new buffer. */
export function concatFloat32(parts: Iterable<Float32Array>): Float32Array {
  const list = [...parts];
  const out = new Float32Array(list.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of list) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
