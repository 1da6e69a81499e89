// compileDac: a DAC checkpoint folder (transformers or descript naming, folded or weight-normed)
// -> dac_decoder.onnx + dac_encoder.onnx (each with its external data) + dac-graphs.json.
// Tensors stream one at a time from the checkpoint into the graphs' data files.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AppError } from '../../../src-shared/errors.ts';
import { GraphBuilder } from '../onnx/graph-builder.ts';
import { externalDataFor, writeModelFile } from '../onnx/model-file.ts';
import type { ExternalDataWriter } from '../onnx/external-data.ts';
import { parseDacConfig, readDacConfig, toTransformersDacConfigJson, type DacConfig } from './dac-config.ts';
import { DacWeights, type DacLayout } from './dac-weights.ts';
import { DacLayerEmitter, type DacPrecision } from './dac-layers.ts';
import { buildDacDecoderGraph } from './decoder-graph.ts';
import { buildDacEncoderGraph } from './encoder-graph.ts';
import { DAC_GRAPH_FILES, DAC_MANIFEST_FILE, describeDacGraphs, type DacGraphIo, type DacGraphRole } from './graph-io.ts';
import { decoderContextFrames, type ContextFrames } from './receptive-field.ts';

export type { DacPrecision } from './dac-layers.ts';

export interface DacCompileProgress {
  graph: DacGraphRole;
  /** Checkpoint tensor just read. */
  tensor: string;
  /** Distinct checkpoint tensors read so far (both graphs together read every tensor). */
  tensorsDone: number;
  tensorsTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

export interface CompileDacOptions {
  precision: DacPrecision;
  onProgress?: (p: DacCompileProgress) => void;
  signal?: AbortSignal;
}

export interface DacGraphFile extends DacGraphIo {
  role: DacGraphRole;
  path: string;
  dataPath?: string;
}

export interface CompiledDac {
  outDir: string;
  manifestPath: string;
  precision: DacPrecision;
  layout: DacLayout;
  config: DacConfig;
  /** Decoder receptive field: frames of context either side for exact chunked decoding. */
  context: ContextFrames;
  graphs: Record<DacGraphRole, DacGraphFile>;
  /** Every file written, data files included. */
  files: string[];
}

interface ManifestJson {
  format: 'dac-graphs';
  version: 1;
  precision: DacPrecision;
  layout: DacLayout;
  /** In transformers config.json form: readable with parseDacConfig like any checkpoint config. */
  config: Record<string, unknown>;
  context: ContextFrames;
  graphs: Record<DacGraphRole, DacGraphIo & { file: string; data?: string }>;
}

const ROLES: DacGraphRole[] = ['decoder', 'encoder'];
const EXTERNAL_THRESHOLD = 1024;

function cancelled(): AppError {
  return new AppError('cancelled', 'DAC compile cancelled');
}

export async function compileDac(checkpointDir: string, outDir: string, options: CompileDacOptions): Promise<CompiledDac> {
  const { precision, signal } = options;
  if (precision !== 'fp32' && precision !== 'fp16') throw new AppError('invalid-input', `Unknown DAC precision ${JSON.stringify(precision)} (expected fp32 or fp16)`);
  if (signal?.aborted) throw cancelled();
  const config = await readDacConfig(checkpointDir);
  const weights = await DacWeights.open(checkpointDir, config);
  const written: string[] = [];
  const openData: ExternalDataWriter[] = [];
  try {
    await mkdir(outDir, { recursive: true });
    const seen = new Set<string>();
    let bytesDone = 0;
    const bytesTotal = weights.sourceBytes;
    let graph: DacGraphRole = 'decoder';
    weights.onRead = ({ tensor, bytes }) => {
      if (signal?.aborted) throw cancelled();
      // The quantizer's tensors feed both graphs; count each tensor once.
      if (!seen.has(tensor)) bytesDone += bytes;
      seen.add(tensor);
      options.onProgress?.({ graph, tensor, tensorsDone: seen.size, tensorsTotal: weights.sourceTensorCount, bytesDone, bytesTotal });
    };
    const io = describeDacGraphs(config);
    const graphs = {} as Record<DacGraphRole, DacGraphFile>;
    const build = { decoder: buildDacDecoderGraph, encoder: buildDacEncoderGraph };
    for (const role of ROLES) {
      graph = role;
      const path = join(outDir, DAC_GRAPH_FILES[role]);
      const external = externalDataFor(path);
      openData.push(external);
      written.push(external.path);
      const b = new GraphBuilder({ name: `dac_${role}`, externalData: external, externalThreshold: EXTERNAL_THRESHOLD, opset: 17, docString: `DAC ${role} (${precision}, ${weights.layout} checkpoint)` });
      await build[role](new DacLayerEmitter(b, weights, precision));
      if (signal?.aborted) throw cancelled();
      written.push(path);
      const file = await writeModelFile(b, path, external);
      graphs[role] = { role, path: file.path, dataPath: file.dataPath, ...io[role] };
    }

    const context = decoderContextFrames(config);
    const manifestPath = join(outDir, DAC_MANIFEST_FILE);
    const manifest: ManifestJson = {
      format: 'dac-graphs',
      version: 1,
      precision,
      layout: weights.layout,
      config: toTransformersDacConfigJson(config),
      context,
      graphs: Object.fromEntries(ROLES.map((role) => {
        const { inputs, outputs, dataPath } = graphs[role];
        return [role, { file: DAC_GRAPH_FILES[role], data: dataPath ? basename(dataPath) : undefined, inputs, outputs }];
      })) as ManifestJson['graphs'],
    };
    const tmp = `${manifestPath}.tmp-${process.pid}`;
    await writeFile(tmp, JSON.stringify(manifest, null, 2), { flush: true });
    await rename(tmp, manifestPath);
    written.push(manifestPath);
    return { outDir, manifestPath, precision, layout: weights.layout, config, context, graphs, files: written };
  } catch (err) {
    for (const d of openData) d.close();
    await Promise.all(written.map((f) => rm(f, { force: true })));
    throw AppError.fromUnknown(err);
  } finally {
    await weights.close();
  }
}

/** Reads a compiled folder's manifest back (paths resolved against `outDir`). */
export async function loadCompiledDac(outDir: string): Promise<CompiledDac> {
  const manifestPath = join(outDir, DAC_MANIFEST_FILE);
  let m: ManifestJson;
  try {
    m = JSON.parse(await readFile(manifestPath, 'utf8')) as ManifestJson;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError('model-missing', `No compiled DAC in ${outDir}: ${DAC_MANIFEST_FILE} is missing`, { cause: err });
    throw new AppError('model-corrupt', `${manifestPath} is not readable JSON: ${(err as Error).message}`, { cause: err });
  }
  if (m?.format !== 'dac-graphs' || m.version !== 1 || typeof m.graphs !== 'object' || m.graphs === null) {
    throw new AppError('model-corrupt', `${manifestPath} is not a version 1 DAC graph manifest`);
  }
  if (m.precision !== 'fp32' && m.precision !== 'fp16') throw new AppError('model-corrupt', `${manifestPath} names an unknown precision ${JSON.stringify(m.precision)}`);
  const config = parseDacConfig(m.config, manifestPath);
  const graphs = {} as Record<DacGraphRole, DacGraphFile>;
  const files: string[] = [manifestPath];
  // I/O is a function of the config; the manifest's copy is for readers without this code.
  const io = describeDacGraphs(config);
  for (const role of ROLES) {
    const g = m.graphs[role];
    if (!g || typeof g.file !== 'string') throw new AppError('model-corrupt', `${manifestPath} has no ${role} graph`);
    const path = join(outDir, DAC_GRAPH_FILES[role]);
    if (g.data !== undefined && (typeof g.data !== 'string' || basename(g.data) !== g.data)) throw new AppError('model-corrupt', `${manifestPath} names an invalid data file for the ${role} graph`);
    const dataPath = g.data ? join(outDir, g.data) : undefined;
    graphs[role] = { role, path, dataPath, ...io[role] };
    files.push(path, ...(dataPath ? [dataPath] : []));
  }
  return { outDir, manifestPath, precision: m.precision, layout: m.layout, config, context: decoderContextFrames(config), graphs, files };
}
