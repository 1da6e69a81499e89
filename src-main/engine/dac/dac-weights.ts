// Reads DAC weights by their transformers module path (`decoder.block.0.conv_t1`, ...) whatever
// the checkpoint's naming (dac-codec.md §4):
//   - transformers layout (`descript/dac_44khz`): module paths as in modeling_dac.py;
//   - descript layout (the original weights.pth state dict): `decoder.model.{n}.block.{m}...`.
// and whatever form a conv weight is stored in: folded `weight`, legacy weight-norm
// `weight_g`/`weight_v`, or parametrized `parametrizations.weight.original0`/`original1`.
// Every tensor's shape is checked against the config, so a wrong config or checkpoint fails with
// the tensor and file named rather than producing garbage graphs.
import { AppError } from '../../../src-shared/errors.ts';
import { CheckpointTensors } from '../checkpoint/checkpoint-tensors.ts';
import type { DacConfig } from './dac-config.ts';
import { foldWeightNorm } from './weight-norm.ts';

export type DacLayout = 'transformers' | 'descript';

export interface ConvWeights {
  /** Folded weight, PyTorch/ONNX layout: Conv [out, in, k], ConvTranspose [in, out, k]. */
  weight: Float32Array;
  bias: Float32Array;
}

export interface TensorRead {
  tensor: string;
  bytes: number;
}

const RES_PARTS = ['snake1', 'conv1', 'snake2', 'conv2'];

/** Maps a transformers module path to the original descript one for this config's block counts. */
export function descriptModulePath(module: string, c: DacConfig): string {
  const q = /^quantizer\.quantizers\.\d+\./.exec(module);
  if (q) return module;
  let m: RegExpExecArray | null;
  const nDec = c.decoderRates.length;
  const nEnc = c.encoderRates.length;
  if (module === 'decoder.conv1') return 'decoder.model.0';
  if (module === 'decoder.snake1') return `decoder.model.${nDec + 1}`;
  if (module === 'decoder.conv2') return `decoder.model.${nDec + 2}`;
  if ((m = /^decoder\.block\.(\d+)\.(snake1|conv_t1)$/.exec(module))) {
    return `decoder.model.${Number(m[1]) + 1}.block.${m[2] === 'snake1' ? 0 : 1}`;
  }
  if ((m = /^decoder\.block\.(\d+)\.res_unit(\d)\.(snake1|conv1|snake2|conv2)$/.exec(module))) {
    return `decoder.model.${Number(m[1]) + 1}.block.${Number(m[2]) + 1}.block.${RES_PARTS.indexOf(m[3])}`;
  }
  if (module === 'encoder.conv1') return 'encoder.block.0';
  if (module === 'encoder.snake1') return `encoder.block.${nEnc + 1}`;
  if (module === 'encoder.conv2') return `encoder.block.${nEnc + 2}`;
  if ((m = /^encoder\.block\.(\d+)\.(snake1|conv1)$/.exec(module))) {
    return `encoder.block.${Number(m[1]) + 1}.block.${m[2] === 'snake1' ? 3 : 4}`;
  }
  if ((m = /^encoder\.block\.(\d+)\.res_unit(\d)\.(snake1|conv1|snake2|conv2)$/.exec(module))) {
    return `encoder.block.${Number(m[1]) + 1}.block.${Number(m[2]) - 1}.block.${RES_PARTS.indexOf(m[3])}`;
  }
  throw new Error(`No descript name for DAC module ${module}`);
}

const WEIGHT_FORMS = [
  { weight: 'weight' },
  { gain: 'weight_g', direction: 'weight_v' },
  { gain: 'parametrizations.weight.original0', direction: 'parametrizations.weight.original1' },
] as const;

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export class DacWeights {
  readonly config: DacConfig;
  readonly layout: DacLayout;
  /** Called after every tensor read (progress reporting; may throw to cancel). */
  onRead?: (read: TensorRead) => void;
  private readonly tensors: CheckpointTensors;

  private constructor(tensors: CheckpointTensors, config: DacConfig, layout: DacLayout) {
    this.tensors = tensors;
    this.config = config;
    this.layout = layout;
  }

  static async open(dir: string, config: DacConfig): Promise<DacWeights> {
    const tensors = await CheckpointTensors.open(dir);
    const has = (module: string): boolean => WEIGHT_FORMS.some((f) => tensors.has(`${module}.${'weight' in f ? f.weight : f.direction}`));
    let layout: DacLayout;
    if (has('decoder.conv1')) layout = 'transformers';
    else if (has('decoder.model.0')) layout = 'descript';
    else {
      await tensors.close();
      throw new AppError('model-mismatch', `${dir} is not a DAC checkpoint: neither decoder.conv1.weight (transformers) nor decoder.model.0.weight_v (descript) is present`);
    }
    return new DacWeights(tensors, config, layout);
  }

  get dir(): string {
    return this.tensors.dir;
  }

  get sourceTensorCount(): number {
    return this.tensors.names.length;
  }

  get sourceBytes(): number {
    return this.tensors.names.reduce((sum, n) => sum + (this.tensors.find(n)?.byteLength ?? 0), 0);
  }

  /** The checkpoint's name for `module` (a transformers module path). */
  sourceModule(module: string): string {
    return this.layout === 'transformers' ? module : descriptModulePath(module, this.config);
  }

  /** Reads a float tensor whose shape must be one of `shapes` (the first is the canonical one). */
  private async read(name: string, ...shapes: number[][]): Promise<Float32Array> {
    const info = this.tensors.find(name);
    if (!info) throw new AppError('model-mismatch', `Tensor ${name} is missing from the DAC checkpoint in ${this.dir}`);
    if (!shapes.some((s) => shapeText(s) === shapeText(info.shape))) {
      throw new AppError('model-mismatch', `Tensor ${name} in ${info.file} has shape ${shapeText(info.shape)}, expected ${shapeText(shapes[0])} for this DAC config`);
    }
    const data = await this.tensors.readFloat32(name);
    this.onRead?.({ tensor: name, bytes: info.byteLength });
    return data;
  }

  /**
   * A conv's folded weight and bias. `shape` is the PyTorch weight shape ([out, in, k] for Conv1d,
   * [in, out, k] for ConvTranspose1d); `biasLength` its output channels.
   */
  async conv(module: string, shape: [number, number, number], biasLength: number): Promise<ConvWeights> {
    const source = this.sourceModule(module);
    const bias = await this.read(`${source}.bias`, [biasLength]);
    for (const form of WEIGHT_FORMS) {
      if ('weight' in form) {
        if (this.tensors.has(`${source}.${form.weight}`)) return { weight: await this.read(`${source}.${form.weight}`, shape), bias };
      } else if (this.tensors.has(`${source}.${form.direction}`)) {
        const v = await this.read(`${source}.${form.direction}`, shape);
        const g = await this.read(`${source}.${form.gain}`, [shape[0], 1, 1], [shape[0]]);
        return { weight: foldWeightNorm(g, v, shape[0], `${source}.${form.direction} in ${this.dir}`), bias };
      }
    }
    throw new AppError('model-mismatch', `Tensor ${source}.weight (or ${source}.weight_g/weight_v) is missing from the DAC checkpoint in ${this.dir}`);
  }

  /** Snake α for `module`, flattened to [channels]. */
  async alpha(module: string, channels: number): Promise<Float32Array> {
    return this.read(`${this.sourceModule(module)}.alpha`, [1, channels, 1], [channels]);
  }

  /** Codebook of RVQ level `level`: [codebookSize, codebookDim]. */
  async codebook(level: number): Promise<Float32Array> {
    const c = this.config;
    return this.read(`quantizer.quantizers.${level}.codebook.weight`, [c.codebookSize, c.codebookDim]);
  }

  async close(): Promise<void> {
    await this.tensors.close();
  }
}
