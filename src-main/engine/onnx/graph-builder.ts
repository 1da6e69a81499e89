// A small ONNX graph builder over onnx-proto. Graph code reads like the math
// (`b.op('MatMul', [x, w])`), value names are generated, and large initializers can be streamed
// to an external-data file as they are added, so compiling a 6 GB checkpoint never holds the whole
// model in memory and never hits protobuf's 2 GB message limit.
import onnxProto from 'onnx-proto';
import { ExternalDataWriter } from './external-data.ts';
import { floatToHalfBits } from '../checkpoint/half.ts';

const { onnx } = onnxProto;
export type ModelProto = InstanceType<typeof onnx.ModelProto>;
type NodeProto = InstanceType<typeof onnx.NodeProto>;
type TensorProto = InstanceType<typeof onnx.TensorProto>;
type ValueInfoProto = InstanceType<typeof onnx.ValueInfoProto>;
type AttributeProto = InstanceType<typeof onnx.AttributeProto>;

type GraphProto = InstanceType<typeof onnx.GraphProto>;

export type ElemType = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

export const ELEM_TYPE_CODE: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  bfloat16: onnx.TensorProto.DataType.BFLOAT16,
  float64: onnx.TensorProto.DataType.DOUBLE,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  int8: onnx.TensorProto.DataType.INT8,
  uint8: onnx.TensorProto.DataType.UINT8,
  bool: onnx.TensorProto.DataType.BOOL,
};

/** Attribute values: plain numbers are INT, wrap floats as {f}. Arrays of numbers are INTS. */
export type AttrValue =
  | number
  | number[]
  | string
  | { f: number }
  | { floats: number[] }
  | { tensor: TensorProto }
  | { graph: InstanceType<typeof onnx.GraphProto> };

export type Dim = number | string;

export interface OpOptions {
  domain?: string;
  /** Number of outputs (default 1). */
  outputs?: number;
  /** Explicit output names (default: generated). */
  outputNames?: string[];
  name?: string;
}

export interface BuilderOptions {
  name: string;
  /** Initializers at least this large (bytes) go to external data when a writer is given. */
  externalThreshold?: number;
  externalData?: ExternalDataWriter;
  opset?: number;
  docString?: string;
}

export const MS_DOMAIN = 'com.microsoft';

/** Where an initializer's bytes live in an external-data file (relative location, byte range). */
export interface ExternalRef {
  location: string;
  offset: number;
  length: number;
}

function makeAttr(name: string, v: AttrValue): AttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`Attribute ${name}: ${v} is not an integer; wrap floats as {f}`);
    return onnx.AttributeProto.create({ name, type: T.INT, i: v });
  }
  if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(v) });
  if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: v });
  if ('f' in v) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: v.f });
  if ('floats' in v) return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: v.floats });
  if ('tensor' in v) return onnx.AttributeProto.create({ name, type: T.TENSOR, t: v.tensor });
  return onnx.AttributeProto.create({ name, type: T.GRAPH, g: v.graph });
}

function valueInfo(name: string, type: ElemType, dims: Dim[]): ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: ELEM_TYPE_CODE[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

function setExternal(tensor: TensorProto, ref: ExternalRef): void {
  tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
  tensor.externalData = [
    { key: 'location', value: ref.location },
    { key: 'offset', value: String(ref.offset) },
    { key: 'length', value: String(ref.length) },
  ];
}

function bytesOf(data: ArrayBufferView): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export class GraphBuilder {
  readonly name: string;
  /** The model's top-level graph (this builder unless it builds a Loop/If body). */
  readonly root: GraphBuilder;
  private readonly nodes: NodeProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly names: Set<string>;
  private readonly constCache: Map<string, string>;
  private readonly opts: BuilderOptions;
  private readonly domains = new Set<string>();
  private readonly externalRefs = new Map<string, ExternalRef>();
  private readonly count: { next: number };
  /** Values renamed to the graph output they became (output()); later uses follow the new name. */
  private readonly renamed: Map<string, string>;

  constructor(opts: BuilderOptions, root?: GraphBuilder) {
    this.opts = opts;
    this.name = opts.name;
    this.root = root ?? this;
    // A body shares the root's namespace (every value name stays unique in the model) but keeps
    // its small constants (shapes, axes, k, scalars) as its own initializers: read from the outer
    // scope, a constant that a kernel wants on the host (a Reshape's shape, TopK's k) would be
    // placed with the Loop on the GPU and copied back on every iteration, a device sync each time.
    this.names = root ? root.names : new Set();
    this.constCache = new Map();
    this.count = root ? root.count : { next: 0 };
    this.renamed = root ? root.renamed : new Map();
  }

  /**
   * A builder for a control-flow body (Loop, If) of this model. Its nodes, inputs, outputs and
   * small cached constants are its own; other initializers (weights, tables) go to the root graph,
   * which the body reads as outer-scope values, so a weight used both outside and inside a loop is
   * stored once.
   */
  subgraph(name: string): GraphBuilder {
    return new GraphBuilder({ ...this.root.opts, name }, this.root);
  }

  /** A fresh value name with a readable prefix. */
  fresh(prefix: string): string {
    const n = this.unusedName(prefix);
    this.names.add(n);
    return n;
  }

  /** An unused name with a readable prefix, not yet taken (for input() and output()). */
  unusedName(prefix: string): string {
    let n: string;
    do n = `${prefix}_${this.count.next++}`;
    while (this.names.has(n));
    return n;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`Graph ${this.name}: value name ${name} used twice`);
    this.names.add(name);
    return name;
  }

  input(name: string, type: ElemType, dims: Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), type, dims));
    return name;
  }

  /**
   * Declares `value` as graph output `name`. A value made by a node of this graph takes the name
   * itself; anything else (an input, an initializer, a value already an output or read by a body
   * graph) goes through an Identity. ONNX Runtime keeps an Identity whose input has other uses
   * (a cache both returned and read for its new rows), and on a GPU every node is a launch per run.
   */
  output(value: string, name: string, type: ElemType, dims: Dim[]): void {
    const current = this.renamed.get(value) ?? value;
    if (current !== name && !this.rename(current, name)) this.op('Identity', [current], {}, { outputNames: [name] });
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** Renames a value made by a node of this graph, where nothing else could still hold the old name. */
  private rename(value: string, name: string): boolean {
    if (this.names.has(name) || this.outputs.some((o) => o.name === value)) return false;
    const producer = this.nodes.find((n) => n.output.includes(value));
    if (!producer || this.nodes.some((n) => n.attribute.some((a) => a.g && graphReads(a.g, value)))) return false;
    this.claim(name);
    for (const n of this.nodes) {
      n.output = n.output.map((o) => (o === value ? name : o));
      n.input = n.input.map((i) => (i === value ? name : i));
    }
    this.renamed.set(value, name);
    return true;
  }

  /** Adds an initializer (to the root graph); large ones are streamed to external data when configured. */
  initializer(name: string, type: ElemType, dims: number[], data: ArrayBufferView): string {
    if (this.root !== this) return this.root.initializer(name, type, dims, data);
    const raw = bytesOf(data);
    const ext = this.opts.externalData;
    if (!ext || raw.byteLength < (this.opts.externalThreshold ?? 1024)) return this.inlineInitializer(name, type, dims, raw);
    this.claim(name);
    const tensor = onnx.TensorProto.create({ name, dims, dataType: ELEM_TYPE_CODE[type] });
    const { offset, length } = ext.append(raw);
    const ref = { location: ext.relativeName, offset, length };
    setExternal(tensor, ref);
    this.externalRefs.set(name, ref);
    this.initializers.push(tensor);
    return name;
  }

  /** Adds an initializer stored in the model, to this graph (a body's own constants). */
  private inlineInitializer(name: string, type: ElemType, dims: number[], raw: Uint8Array): string {
    this.claim(name);
    // Copy: the caller may reuse its buffer after this call.
    this.initializers.push(onnx.TensorProto.create({ name, dims, dataType: ELEM_TYPE_CODE[type], rawData: raw.slice() }));
    return name;
  }

  /** An initializer under a fresh name with a readable prefix. */
  constant(prefix: string, type: ElemType, dims: number[], data: ArrayBufferView): string {
    return this.initializer(this.unusedName(prefix), type, dims, data);
  }

  /**
   * Adds an initializer whose bytes were already written to an external-data file, e.g. by another
   * graph variant built over the same weights (the variants then share one data file).
   */
  externalInitializer(name: string, type: ElemType, dims: number[], ref: ExternalRef): string {
    if (this.root !== this) return this.root.externalInitializer(name, type, dims, ref);
    this.claim(name);
    const tensor = onnx.TensorProto.create({ name, dims, dataType: ELEM_TYPE_CODE[type] });
    setExternal(tensor, ref);
    this.externalRefs.set(name, ref);
    this.initializers.push(tensor);
    return name;
  }

  /** The external-data location of an initializer, or undefined when it is stored inline. */
  externalRef(name: string): ExternalRef | undefined {
    return this.root.externalRefs.get(name);
  }

  /** float32 constant (deduplicated by value). */
  constF32(values: number[] | Float32Array, dims: number[] = [values.length]): string {
    return this.cachedConst('float32', values, dims, () => Float32Array.from(values));
  }

  constF16(values: Uint16Array, dims: number[]): string {
    return this.cachedConst('float16', values, dims, () => values);
  }

  /** int64 constant (deduplicated by value), e.g. shapes and axes. */
  constI64(values: number[], dims: number[] = [values.length]): string {
    return this.cachedConst('int64', values, dims, () => BigInt64Array.from(values, (v) => BigInt(v)));
  }

  /** int32 constant (deduplicated by value): the indices and counts of graphs for GPU providers without int64 kernels. */
  constI32(values: number[], dims: number[] = [values.length]): string {
    return this.cachedConst('int32', values, dims, () => Int32Array.from(values));
  }

  /** float64 constant (deduplicated by value). */
  constF64(values: number[], dims: number[] = [values.length]): string {
    return this.cachedConst('float64', values, dims, () => Float64Array.from(values));
  }

  /** A small constant, one initializer per graph and value; a body keeps its own (see the constructor). */
  private cachedConst(type: ElemType, values: ArrayLike<number>, dims: number[], data: () => ArrayBufferView): string {
    const prefix = `c_${type}`;
    if (values.length > 64) return this.initializer(this.unusedName(prefix), type, dims, data());
    const key = `${type}|${dims.join(',')}|${Array.from(values).join(',')}`;
    let name = this.constCache.get(key);
    if (!name) {
      name = this.unusedName(prefix);
      if (this.root === this) this.initializer(name, type, dims, data());
      else this.inlineInitializer(name, type, dims, bytesOf(data()));
      this.constCache.set(key, name);
    }
    return name;
  }

  /** A tensor of shape `shape` (an int64 shape value) filled with `value`: ConstantOfShape. */
  filled(shape: string, type: 'float32' | 'float16' | 'float64' | 'int32' | 'int64' | 'bool', value: number): string {
    const data = type === 'float32' ? Float32Array.of(value) : type === 'float16' ? Uint16Array.of(floatToHalfBits(value)) : type === 'float64' ? Float64Array.of(value) : type === 'int32' ? Int32Array.of(value) : type === 'int64' ? BigInt64Array.of(BigInt(value)) : Uint8Array.of(value ? 1 : 0);
    const tensor = onnx.TensorProto.create({ dims: [1], dataType: ELEM_TYPE_CODE[type], rawData: bytesOf(data).slice() });
    return this.op('ConstantOfShape', [shape], { value: { tensor } });
  }

  /** Adds a node and returns its first output. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, options: OpOptions = {}): string {
    return this.opMulti(opType, inputs, attrs, options)[0];
  }

  /** Adds a node and returns all its outputs. Pass '' in inputs for an omitted optional input. */
  opMulti(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, options: OpOptions = {}): string[] {
    const count = options.outputNames?.length ?? options.outputs ?? 1;
    const outputs = options.outputNames ? options.outputNames.map((n) => this.claim(n)) : Array.from({ length: count }, () => this.fresh(opType.toLowerCase()));
    if (options.domain) this.root.domains.add(options.domain);
    this.nodes.push(
      onnx.NodeProto.create({
        opType,
        input: inputs.map((i) => this.renamed.get(i) ?? i),
        output: outputs,
        name: options.name ?? this.fresh(`n_${opType}`),
        domain: options.domain ?? '',
        attribute: Object.entries(attrs).map(([k, v]) => makeAttr(k, v)),
      }),
    );
    return outputs;
  }

  /** The body graph of a subgraph builder, for a Loop/If `graph` attribute. */
  graph(): GraphProto {
    return onnx.GraphProto.create({ name: this.name, node: this.nodes, input: this.inputs, output: this.outputs, initializer: this.initializers });
  }

  build(): ModelProto {
    if (this.root !== this) throw new Error(`Graph ${this.name} is a body graph; build the model from its root`);
    const opsetImport = [{ domain: '', version: this.opts.opset ?? 17 }];
    for (const d of this.domains) opsetImport.push({ domain: d, version: 1 });
    return onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'dia-studio',
      producerVersion: '1',
      opsetImport,
      docString: this.opts.docString ?? '',
      graph: this.graph(),
    });
  }

  /** Serialized model bytes (external data, if any, must be finished separately). */
  encode(): Uint8Array {
    return onnx.ModelProto.encode(this.build()).finish();
  }
}

/** The parts of a graph that say which values its nodes read. */
interface GraphReads {
  node?: Array<{ input?: string[] | null; attribute?: Array<{ g?: GraphReads | null }> | null }> | null;
}

/** Whether a node of `g` (or of a graph nested in it) reads `value`. */
function graphReads(g: GraphReads, value: string): boolean {
  return (g.node ?? []).some((n) => (n.input ?? []).includes(value) || (n.attribute ?? []).some((a) => a.g && graphReads(a.g, value)));
}
