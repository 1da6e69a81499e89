// mulberry32: a tiny seeded generator of uniform floats in [0, 1), for reproducible test signals and
// random checkpoint weights (the committed fixtures depend on its exact stream). The sampler has its
// own generator (engine/generation/prng.ts), whose stream saved takes replay.
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
