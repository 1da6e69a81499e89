// How many code frames either side of a frame the DAC decoder reads, computed from the config by
// exact index propagation (Snake and tanh are pointwise, so only convolutions widen the window).
// For the 44.1 kHz model this gives 10 frames each side (dac-codec.md §5.1): decoding frames
// [a - 10, b + 10) and keeping [a, b) reproduces a full decode exactly.
import type { DacConfig } from './dac-config.ts';
import { hopLength } from './dac-config.ts';

/** Inclusive index interval at some layer's resolution. */
interface Span {
  lo: number;
  hi: number;
}

type Layer =
  | { kind: 'conv'; kernel: number; padding: number; dilation: number }
  | { kind: 'convTranspose'; kernel: number; stride: number; padding: number }
  | { kind: 'residual'; dilation: number };

/** Decoder layers in forward order, as decoder-graph.ts builds them. */
function decoderLayers(c: DacConfig): Layer[] {
  const layers: Layer[] = [{ kind: 'conv', kernel: 7, padding: 3, dilation: 1 }];
  for (const s of c.decoderRates) {
    layers.push({ kind: 'convTranspose', kernel: 2 * s, stride: s, padding: Math.ceil(s / 2) });
    for (const d of [1, 3, 9]) layers.push({ kind: 'residual', dilation: d });
  }
  layers.push({ kind: 'conv', kernel: 7, padding: 3, dilation: 1 });
  return layers;
}

/** Input indices that output indices `out` depend on, for one layer. */
function inputSpan(layer: Layer, out: Span): Span {
  switch (layer.kind) {
    case 'conv':
      // y[n] = Σ_j w[j] · x[n − p + j·d]
      return { lo: out.lo - layer.padding, hi: out.hi - layer.padding + (layer.kernel - 1) * layer.dilation };
    case 'convTranspose':
      // x[i] reaches y[i·s − p + j] for j in [0, k): y[n] reads i with 0 <= n + p − i·s < k.
      return {
        lo: Math.ceil((out.lo + layer.padding - layer.kernel + 1) / layer.stride),
        hi: Math.floor((out.hi + layer.padding) / layer.stride),
      };
    case 'residual':
      // Skip path reads n itself; the k7 conv with dilation d (padding 3d) reads n ± 3d.
      return { lo: out.lo - 3 * layer.dilation, hi: out.hi + 3 * layer.dilation };
  }
}

export interface ContextFrames {
  /** Frames before a frame that affect some of its samples. */
  left: number;
  /** Frames after it. */
  right: number;
}

/** Worst case over the samples of one frame of how far its inputs reach, in frames. */
export function decoderContextFrames(c: DacConfig): ContextFrames {
  const hop = hopLength(c);
  const layers = decoderLayers(c).reverse();
  // Any frame far from the sequence ends will do: the dependency pattern repeats every frame.
  const frame = 1000;
  let left = 0;
  let right = 0;
  for (let r = 0; r < hop; r++) {
    let span: Span = { lo: frame * hop + r, hi: frame * hop + r };
    for (const layer of layers) span = inputSpan(layer, span);
    left = Math.max(left, frame - span.lo);
    right = Math.max(right, span.hi - frame);
  }
  return { left, right };
}
