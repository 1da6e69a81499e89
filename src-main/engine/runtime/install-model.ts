// Compiles a Dia checkpoint plus a DAC checkpoint into one installed model: graphs for each
// requested precision under dia-<precision>/, codec graphs under dac/, and the store's manifest
// (source hashes, compiler version, graph hashes) written last. Skips the work when the store says
// the installed model is already current.
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { compileDia, graphOwnsData, type CompileProgress } from '../dia/compile.ts';
import { compileDac } from '../dac/compile.ts';
import { sha256File } from '../models/hash.ts';
import type { ModelStore, GraphSpec } from '../models/store.ts';
import { AppError } from '../../../src-shared/errors.ts';
import { changedSourceFiles, type ModelManifest, type Precision, type SourceFile, type SourceRef } from '../models/manifest.ts';
import { readDiaConfig } from '../checkpoint/dia-config.ts';
import { checkpointSourceRef, compiledSourceFiles, isSourceFile, readCheckpointRecord, sourceDirRef } from '../models/checkpoint-record.ts';

/** Bump when graph layout or numerics change so installed models are recompiled. */
export const COMPILER_VERSION = '22';
/** The codec a hub install takes when none is named. */
export const DEFAULT_CODEC_REPO = 'descript/dac_44khz';

export interface InstallProgress {
  stage: 'hashing' | 'dia' | 'dac' | 'finishing';
  precision?: Precision;
  fraction: number;
  detail: string;
}

export interface InstallModelOptions {
  id: string;
  diaDir: string;
  dacDir: string;
  precisions: Precision[];
  label?: string;
  repo?: { dia?: string; dac?: string; revision?: string };
  /** An update: the checkpoints must hold exactly these files, those the model was compiled from. */
  sameWeightsAs?: { source: readonly SourceFile[]; codec?: readonly SourceFile[] };
  onProgress?: (p: InstallProgress) => void;
  signal?: AbortSignal;
}

/**
 * The checkpoint's files with their sha256: from the record a download or import left (sizes
 * checked; the hashes were verified when the files arrived), else hashed here. The record also
 * gives the repo and the commit the files came from, so an update can fetch the same weights.
 * A folder inside the data folder is recorded relative to it, so the data folder can move.
 */
async function describeSource(dataDir: string, dir: string, repo: string | undefined, revision: string | undefined): Promise<SourceRef> {
  const record = await readCheckpointRecord(dir).catch(() => undefined);
  if (record) {
    const ref: SourceRef = { ...checkpointSourceRef(dataDir, dir, record), files: compiledSourceFiles(record) };
    if (repo) ref.repo = repo;
    if (revision) ref.revision = revision;
    return ref;
  }
  const names = (await readdir(dir)).filter(isSourceFile).sort();
  const files = [];
  for (const name of names) {
    const d = await sha256File(join(dir, name));
    files.push({ name, size: d.size, sha256: d.sha256 });
  }
  return { repo, revision, dir: sourceDirRef(dataDir, dir), files };
}

/** Fails when a checkpoint no longer holds the weights a model was compiled from (an update must not change them). */
function checkSameWeights(id: string, found: SourceRef, expected: readonly SourceFile[] | undefined, dir: string): void {
  if (!expected) return;
  const changed = changedSourceFiles(expected, found.files);
  if (changed.length) {
    throw new AppError('model-mismatch', `Model ${id} was compiled from other weights than ${dir} now holds (${changed.join(', ')} differ); import the checkpoint folder it was built from again (Model panel, Import folder…)`);
  }
}

/**
 * Compiles and installs the model. The caller keeps the checkpoints from being deleted meanwhile
 * (ModelService holds them from the first download to the end of the install: useCheckpoint).
 */
export async function installModel(store: ModelStore, opts: InstallModelOptions): Promise<{ manifest: ModelManifest; compiled: boolean }> {
  const report = (p: InstallProgress): void => opts.onProgress?.(p);
  report({ stage: 'hashing', fraction: 0, detail: 'Hashing checkpoints' });
  const source = await describeSource(store.dataDir, opts.diaDir, opts.repo?.dia, opts.repo?.revision);
  const codec = await describeSource(store.dataDir, opts.dacDir, opts.repo?.dac, opts.repo?.revision);
  checkSameWeights(opts.id, source, opts.sameWeightsAs?.source, opts.diaDir);
  checkSameWeights(opts.id, codec, opts.sameWeightsAs?.codec, opts.dacDir);
  const flavour = (await readDiaConfig(opts.diaDir)).flavour;
  const check = await store.needsCompile(opts.id, { source, codec, compilerVersion: COMPILER_VERSION, precision: opts.precisions, flavour });
  if (!check.needed) return { manifest: await store.manifest(opts.id), compiled: false };

  const install = await store.beginInstall(opts.id);
  try {
    const graphs: GraphSpec[] = [];
    // The graphs' descriptions carry the runtime config (EOS token, delay pattern): hashed like the graphs.
    const files: string[] = [];
    const rel = (p: string): string => relative(install.dir, p).split('\\').join('/');
    const steps = opts.precisions.length + 1;
    for (const [i, precision] of opts.precisions.entries()) {
      const onProgress = (p: CompileProgress): void =>
        report({ stage: 'dia', precision, fraction: (i + p.bytesDone / Math.max(1, p.bytesTotal)) / steps, detail: `Compiling Dia ${precision}: ${p.tensor}` });
      const out = await compileDia(opts.diaDir, install.path(`dia-${precision}`), { precision, onProgress, signal: opts.signal });
      files.push(rel(out.manifestPath));
      for (const g of Object.values(out.graphs)) {
        graphs.push({ name: `dia-${precision}.${g.role}`, file: rel(g.path), precision, externalData: g.dataPath && graphOwnsData(g.role) ? [rel(g.dataPath)] : undefined });
      }
    }
    report({ stage: 'dac', fraction: opts.precisions.length / steps, detail: 'Compiling the DAC codec' });
    const dac = await compileDac(opts.dacDir, install.path('dac'), { precision: 'fp32', signal: opts.signal });
    files.push(rel(dac.manifestPath));
    for (const g of Object.values(dac.graphs)) graphs.push({ name: `dac.${g.role}`, file: rel(g.path), precision: 'fp32', externalData: g.dataPath ? [rel(g.dataPath)] : undefined });
    report({ stage: 'finishing', fraction: 0.99, detail: 'Verifying and installing' });
    const manifest = await install.commit({ compilerVersion: COMPILER_VERSION, flavour, precisions: opts.precisions, source, codec, label: opts.label, graphs, files });
    report({ stage: 'finishing', fraction: 1, detail: 'Installed' });
    return { manifest, compiled: true };
  } catch (err) {
    await install.abort();
    throw err;
  }
}
