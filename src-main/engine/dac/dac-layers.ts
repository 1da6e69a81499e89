// The DAC building blocks as ONNX nodes: weight-normed convs (folded), transposed convs, Snake and
// the residual unit, in fp32 or fp16. Weights are read from the checkpoint as each layer is emitted
// and streamed to the graph's external data, so at most one tensor is in memory at a time.
import { ELEM_TYPE_CODE, type ElemType, type GraphBuilder } from '../onnx/graph-builder.ts';
import { float32ToFloat16 } from '../checkpoint/half.ts';
import type { DacWeights } from './dac-weights.ts';

export type DacPrecision = 'fp32' | 'fp16';

export interface ConvSpec {
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride?: number;
  dilation?: number;
  padding: number;
}

const FP16_MAX = 65504;
// The Snake epsilon as torch applies it: a Python scalar cast to the float32 tensor's dtype.
const SNAKE_EPS = Math.fround(1e-9);

/** 1 / (α + 1e-9) rounded as float32 arithmetic does it (dac-codec.md §3.2: never in fp16). */
export function snakeInverseAlpha(alpha: Float32Array): Float32Array {
  const out = new Float32Array(alpha.length);
  for (let i = 0; i < alpha.length; i++) out[i] = Math.fround(1 / Math.fround(alpha[i] + SNAKE_EPS));
  return out;
}

export class DacLayerEmitter {
  readonly b: GraphBuilder;
  readonly weights: DacWeights;
  readonly precision: DacPrecision;
  /** Element type of activations and parameters in the convolution stack. */
  readonly dtype: ElemType;

  constructor(b: GraphBuilder, weights: DacWeights, precision: DacPrecision) {
    this.b = b;
    this.weights = weights;
    this.precision = precision;
    this.dtype = precision === 'fp16' ? 'float16' : 'float32';
  }

  /** A float32 parameter as an initializer in the compute dtype. */
  param(name: string, data: Float32Array, dims: number[]): string {
    if (this.dtype === 'float32') return this.b.initializer(name, 'float32', dims, data);
    return this.b.initializer(name, 'float16', dims, float32ToFloat16(data));
  }

  /** Float32 value -> compute dtype (a no-op in fp32 graphs). */
  toCompute(x: string): string {
    return this.dtype === 'float32' ? x : this.b.op('Cast', [x], { to: ELEM_TYPE_CODE.float16 });
  }

  /** Compute dtype -> float32 (a no-op in fp32 graphs). */
  toFloat32(x: string): string {
    return this.dtype === 'float32' ? x : this.b.op('Cast', [x], { to: ELEM_TYPE_CODE.float32 });
  }

  /** Weight-normed Conv1d `module` (transformers path) on x [B, in, L]. */
  async conv(x: string, module: string, s: ConvSpec): Promise<string> {
    const { weight, bias } = await this.weights.conv(module, [s.outChannels, s.inChannels, s.kernel], s.outChannels);
    const w = this.param(`${module}.weight`, weight, [s.outChannels, s.inChannels, s.kernel]);
    const bb = this.param(`${module}.bias`, bias, [s.outChannels]);
    return this.b.op('Conv', [x, w, bb], {
      kernel_shape: [s.kernel],
      strides: [s.stride ?? 1],
      dilations: [s.dilation ?? 1],
      pads: [s.padding, s.padding],
    });
  }

  /** Weight-normed ConvTranspose1d, kernel 2s, stride s, padding ceil(s/2): length L -> s·L. */
  async convTranspose(x: string, module: string, inChannels: number, outChannels: number, stride: number): Promise<string> {
    const kernel = 2 * stride;
    const { weight, bias } = await this.weights.conv(module, [inChannels, outChannels, kernel], outChannels);
    const w = this.param(`${module}.weight`, weight, [inChannels, outChannels, kernel]);
    const bb = this.param(`${module}.bias`, bias, [outChannels]);
    const pad = Math.ceil(stride / 2);
    return this.b.op('ConvTranspose', [x, w, bb], { kernel_shape: [kernel], strides: [stride], pads: [pad, pad] });
  }

  /** Snake: x + (1/(α+1e-9)) · sin(α·x)², as Mul/Sin/Mul/Mul/Add with 1/(α+1e-9) precomputed. */
  async snake(x: string, module: string, channels: number): Promise<string> {
    const alpha = await this.weights.alpha(module, channels);
    let inv = snakeInverseAlpha(alpha);
    // fp16 overflows past 65504; α that small makes sin(αx)²/α ≈ α·x², so the clamp costs nothing.
    if (this.dtype === 'float16') inv = inv.map((v) => Math.max(-FP16_MAX, Math.min(FP16_MAX, v)));
    const a = this.param(`${module}.alpha`, alpha, [1, channels, 1]);
    const ia = this.param(`${module}.inv_alpha`, inv, [1, channels, 1]);
    const s = this.b.op('Sin', [this.b.op('Mul', [x, a])]);
    const s2 = this.b.op('Mul', [s, s]);
    return this.b.op('Add', [x, this.b.op('Mul', [s2, ia])]);
  }

  /** x + conv1x1(snake(conv7_dilated(snake(x)))): lengths match, so the reference's crop is a no-op. */
  async residualUnit(x: string, module: string, channels: number, dilation: number): Promise<string> {
    let y = await this.snake(x, `${module}.snake1`, channels);
    y = await this.conv(y, `${module}.conv1`, { inChannels: channels, outChannels: channels, kernel: 7, dilation, padding: 3 * dilation });
    y = await this.snake(y, `${module}.snake2`, channels);
    y = await this.conv(y, `${module}.conv2`, { inChannels: channels, outChannels: channels, kernel: 1, padding: 0 });
    return this.b.op('Add', [x, y]);
  }

  /** The three residual units (dilations 1, 3, 9) of an encoder or decoder block. */
  async residualUnits(x: string, block: string, channels: number): Promise<string> {
    let y = x;
    for (const [i, d] of [1, 3, 9].entries()) y = await this.residualUnit(y, `${block}.res_unit${i + 1}`, channels, d);
    return y;
  }
}
