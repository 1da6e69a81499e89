// compileDia: a Hugging Face (transformers or nari) Dia checkpoint -> four ONNX graphs plus a JSON
// manifest describing their I/O. Tensors stream one at a time (read -> convert -> external data),
// so the real 1.6B checkpoint compiles in a few GB of memory.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AppError } from '../../../src-shared/errors.ts';
import { GraphBuilder } from '../onnx/graph-builder.ts';
import { externalDataFor, writeModelFile } from '../onnx/model-file.ts';
import type { ExternalDataWriter } from '../onnx/external-data.ts';
import { readDiaConfig, type DiaConfig, type DiaFlavour } from '../checkpoint/dia-config.ts';
import { DiaWeights, type WeightScheme } from './dia-weights.ts';
import { WeightEmitter, DEFAULT_INT4, computeDtype, type DiaPrecision, type Int4Settings } from './weight-emitter.ts';
import { buildEncoderGraph } from './encoder-graph.ts';
import { buildCrossKvGraph } from './cross-kv-graph.ts';
import { buildDecoderGraph } from './decoder-graph.ts';
import { buildDecoderStepsGraph } from './decoder-steps-graph.ts';
import { buildDecoderResidentGraph } from './decoder-resident-graph.ts';
import { DIA_GRAPH_FILES, DIA_MANIFEST_FILE, UNROLLED_STEPS, describeDiaGraphs, type DiaGraphRole, type GraphIo } from './graph-io.ts';

export type { DiaPrecision, Int4Settings } from './weight-emitter.ts';

export interface CompileProgress {
  graph: DiaGraphRole;
  /** Checkpoint tensor just read. */
  tensor: string;
  tensorsDone: number;
  tensorsTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

export interface CompileDiaOptions {
  precision: DiaPrecision;
  /** Overrides the flavour implied by the config format (nari => v1, transformers => 0626). */
  flavour?: DiaFlavour;
  int4?: Partial<Int4Settings>;
  onProgress?: (p: CompileProgress) => void;
  signal?: AbortSignal;
}

export interface DiaGraphFile extends GraphIo {
  role: DiaGraphRole;
  path: string;
  /** External weights file; decoderAllRows and decoderSteps share decoder's (decoderSteps also cross_kv's). */
  dataPath?: string;
}

export interface CompiledDia {
  outDir: string;
  manifestPath: string;
  precision: DiaPrecision;
  flavour: DiaFlavour;
  int4?: Int4Settings;
  scheme: WeightScheme;
  config: DiaConfig;
  graphs: Record<DiaGraphRole, DiaGraphFile>;
  /** Every file written, data files included. */
  files: string[];
}

/** Serialised form of CompiledDia: paths relative to the output folder. */
interface ManifestJson {
  format: 'dia-graphs';
  version: 1;
  precision: DiaPrecision;
  flavour: DiaFlavour;
  int4?: Int4Settings;
  scheme: WeightScheme;
  config: DiaConfig;
  graphs: Record<DiaGraphRole, Omit<DiaGraphFile, 'path' | 'dataPath'> & { file: string; data?: string }>;
}

const EXTERNAL_THRESHOLD = 1024;
const ROLES: DiaGraphRole[] = ['encoder', 'crossKv', 'decoder', 'decoderAllRows', 'decoderSteps', 'decoderStepsUnrolled', 'decoderResident'];
/** Graphs that compiles made before they existed lack, or that int4 compiles leave out; the runtime copes without them. */
const OPTIONAL_ROLES = new Set<DiaGraphRole>(['decoderSteps', 'decoderStepsUnrolled', 'decoderResident']);
/** Graphs that read decoder.onnx.data (and cross_kv.onnx.data) instead of their own. */
const SHARED_DATA_ROLES = new Set<DiaGraphRole>(['decoderAllRows', 'decoderSteps', 'decoderStepsUnrolled', 'decoderResident']);

/** Whether a graph's external data file is its own (the others' is another graph's). */
export function graphOwnsData(role: DiaGraphRole): boolean {
  return !SHARED_DATA_ROLES.has(role);
}

function cancelled(): AppError {
  return new AppError('cancelled', 'Dia compile cancelled');
}

export async function compileDia(checkpointDir: string, outDir: string, options: CompileDiaOptions): Promise<CompiledDia> {
  const { precision, signal } = options;
  if (!['fp32', 'fp16', 'int4'].includes(precision)) throw new AppError('invalid-input', `Unknown Dia precision ${JSON.stringify(precision)} (expected fp32, fp16 or int4)`);
  if (signal?.aborted) throw cancelled();
  const int4 = precision === 'int4' ? { ...DEFAULT_INT4, ...options.int4 } : undefined;
  const config = await readDiaConfig(checkpointDir, { flavour: options.flavour });
  const weights = await DiaWeights.open(checkpointDir, config);
  const written: string[] = [];
  const openData: ExternalDataWriter[] = [];
  const manifestPath = join(outDir, DIA_MANIFEST_FILE);
  try {
    await mkdir(outDir, { recursive: true });
    // The manifest is written last and marks a complete compile: drop any previous one first, so
    // a failed recompile never leaves a manifest pointing at half-replaced graphs.
    await rm(manifestPath, { force: true });
    const progress = { graph: 'encoder' as DiaGraphRole, tensorsDone: 0, bytesDone: 0 };
    const tensorsTotal = weights.sourceTensorCount;
    const bytesTotal = weights.sourceBytes;
    weights.onRead = ({ source, bytes }) => {
      if (signal?.aborted) throw cancelled();
      progress.tensorsDone++;
      progress.bytesDone += bytes;
      options.onProgress?.({ graph: progress.graph, tensor: source, tensorsDone: progress.tensorsDone, tensorsTotal, bytesDone: progress.bytesDone, bytesTotal });
    };
    const io = describeDiaGraphs(config, computeDtype(precision));
    const graphs = {} as Record<DiaGraphRole, DiaGraphFile>;

    const emit = async (role: DiaGraphRole, build: (b: GraphBuilder) => Promise<void>, ownData: boolean): Promise<void> => {
      progress.graph = role;
      const path = join(outDir, DIA_GRAPH_FILES[role]);
      const external = ownData ? externalDataFor(path) : undefined;
      if (external) {
        openData.push(external);
        written.push(external.path);
      }
      const b = new GraphBuilder({ name: `dia_${role}`, externalData: external, externalThreshold: EXTERNAL_THRESHOLD, opset: 17, docString: `Dia ${role} (${precision}, ${config.flavour})` });
      await build(b);
      if (signal?.aborted) throw cancelled();
      written.push(path);
      const file = await writeModelFile(b, path, external);
      graphs[role] = { role, path: file.path, dataPath: ownData ? file.dataPath : graphs.decoder.dataPath, ...io[role] };
    };

    // One emitter per data file: its external references must point into that graph's own file.
    const encoderWeights = new WeightEmitter(weights, precision, int4);
    await emit('encoder', (b) => buildEncoderGraph(b, config, encoderWeights), true);
    const crossWeights = new WeightEmitter(weights, precision, int4);
    await emit('crossKv', (b) => buildCrossKvGraph(b, config, crossWeights), true);
    // The decoder variants share an emitter: the others only reference decoder.onnx.data (and the
    // multi-step graph cross_kv.onnx.data for the cross projections).
    const decoderWeights = new WeightEmitter(weights, precision, int4);
    await emit('decoder', (b) => buildDecoderGraph(b, config, decoderWeights, false), true);
    await emit('decoderAllRows', (b) => buildDecoderGraph(b, config, decoderWeights, true), false);
    await emit('decoderSteps', (b) => buildDecoderStepsGraph(b, config, decoderWeights, crossWeights), false);
    // WebGPU takes the one-step graph that keeps its cache on the device, or the unrolled one
    // (providers without a Loop kernel): fp16, or fp32 on a device without fp16 shaders. The CPU's
    // int4 graphs need neither.
    if (precision !== 'int4') await emit('decoderResident', (b) => buildDecoderResidentGraph(b, config, decoderWeights), false);
    if (precision !== 'int4') await emit('decoderStepsUnrolled', (b) => buildDecoderStepsGraph(b, config, decoderWeights, crossWeights, UNROLLED_STEPS), false);

    const manifest: ManifestJson = {
      format: 'dia-graphs',
      version: 1,
      precision,
      flavour: config.flavour,
      int4,
      scheme: weights.scheme,
      config,
      graphs: Object.fromEntries(ROLES.filter((role) => graphs[role]).map((role) => {
        const { path, dataPath, ...rest } = graphs[role];
        return [role, { ...rest, file: DIA_GRAPH_FILES[role], data: dataPath ? basename(dataPath) : undefined }];
      })) as ManifestJson['graphs'],
    };
    const tmp = `${manifestPath}.tmp-${process.pid}`;
    await writeFile(tmp, JSON.stringify(manifest, null, 2), { flush: true });
    await rename(tmp, manifestPath);
    written.push(manifestPath);
    return { outDir, manifestPath, precision, flavour: config.flavour, int4, scheme: weights.scheme, config, graphs, files: written };
  } catch (err) {
    for (const d of openData) {
      try {
        d.close();
      } catch {
        // Already closed by writeModelFile.
      }
    }
    await Promise.all(written.map((f) => rm(f, { force: true })));
    throw AppError.fromUnknown(err);
  } finally {
    await weights.close();
  }
}

/** Reads a compile's manifest back (what the runtime loads instead of recompiling). */
export async function loadCompiledDia(outDir: string): Promise<CompiledDia> {
  const manifestPath = join(outDir, DIA_MANIFEST_FILE);
  let manifest: ManifestJson;
  try {
    manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as ManifestJson;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError('model-missing', `No compiled Dia graphs in ${outDir} (missing ${DIA_MANIFEST_FILE})`, { cause: err });
    throw new AppError('model-corrupt', `${manifestPath} is not a readable Dia graph manifest`, { cause: err });
  }
  if (manifest?.format !== 'dia-graphs' || manifest.version !== 1 || !manifest.graphs || !manifest.config) {
    throw new AppError('model-corrupt', `${manifestPath} is not a version-1 Dia graph manifest; recompile the model`);
  }
  const graphs = {} as Record<DiaGraphRole, DiaGraphFile>;
  const files: string[] = [manifestPath];
  for (const role of ROLES) {
    const g = manifest.graphs[role];
    if (!g?.file && OPTIONAL_ROLES.has(role)) continue;
    if (!g?.file) throw new AppError('model-corrupt', `${manifestPath} lacks the ${role} graph`);
    const { file, data, ...io } = g;
    graphs[role] = { ...io, role, path: join(outDir, file), dataPath: data ? join(outDir, data) : undefined };
    files.push(graphs[role].path);
    if (data && graphOwnsData(role)) files.push(join(outDir, data));
  }
  const { precision, flavour, int4, scheme, config } = manifest;
  return { outDir, manifestPath, precision, flavour, int4, scheme, config, graphs, files };
}

