// The compiled-model store: `<dataDir>/models/<modelId>/` holds the graphs of one compiled model
// and its manifest.json. Installs are built in a hidden staging folder, hashed, given their
// manifest last, then renamed into place, so a killed compile never leaves a model that looks valid.
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError, type AppErrorData } from '../../../src-shared/errors.ts';
import { fsyncDir, fsyncFile, ioError, makeFolders, tempSibling, writeJsonAtomic } from './atomic-fs.ts';
import { readJson } from './checkpoint-files.ts';
import { sha256File } from './hash.ts';
import {
  MANIFEST_FILE, MANIFEST_FORMAT_VERSION, changedSourceFiles, checkManifest, manifestFiles,
  type DiaFlavour, type GraphEntry, type ModelManifest, type Precision, type SourceRef,
} from './manifest.ts';
import { assertStoreId, fileInside, isStoreId, modelsRoot } from './paths.ts';
import { acquireLock, type ReleaseLock } from './process-lock.ts';
import { refuseRemoveIfLoadedElsewhere } from './loaded-marker.ts';
import { cleanupStaleSiblings, renameAwayAndDelete, swapInto } from './staging.ts';
import { readManifest, recordVerified, verifyModel, type VerifyOptions } from './verify.ts';

/** Compiled from the tiny fixture checkpoints; the fallback when no real model is installed. */
export const DEMO_MODEL_ID = 'demo-tiny';
const DEFAULT_CHOICE_FILE = 'default.json';

export interface InstalledModel {
  id: string;
  dir: string;
  manifest: ModelManifest | null;
  /** Why the folder is not a usable model, when it is not (the UI offers to remove it). */
  error: AppErrorData | null;
}

export interface RemoveOutcome {
  /** The renamed-away folder that could not be deleted (and why), when deleting failed part way. */
  leftover: { dir: string; message: string } | null;
}

export interface OpenedModel {
  id: string;
  dir: string;
  manifest: ModelManifest;
  /** Absolute path of the graph named `name` (e.g. 'decoder-step'). */
  graphPath(name: string): string;
}

export interface GraphSpec {
  name: string;
  /** File written into the install folder, relative to it. */
  file: string;
  precision?: Precision;
  /** ONNX external-data files the graph references, relative to the install folder. */
  externalData?: string[];
}

export interface InstallSpec {
  compilerVersion: string;
  flavour: DiaFlavour;
  precisions: Precision[];
  source: SourceRef;
  codec?: SourceRef;
  label?: string;
  graphs: GraphSpec[];
  /** Other files of the install the runtime reads (graph descriptions), relative to it: hashed like the graphs. */
  files?: string[];
}

export interface CompileRequest {
  source: SourceRef;
  codec?: SourceRef;
  compilerVersion: string;
  /** Every precision the caller needs; an install holding more is still current. */
  precision: Precision | Precision[];
  flavour?: DiaFlavour;
}

export interface CompileCheck {
  needed: boolean;
  /** Human-readable, for logs and the UI ("compiler version changed 1 -> 2"). */
  reason: string;
}

export class ModelStore {
  readonly dataDir: string;
  readonly root: string;
  /** Models whose unfinished install a sweep cleaned up, until takeInterrupted() (the demo rebuild sweeps with this store too). */
  private readonly interrupted = new Set<string>();

  constructor(dataDir: string) {
    this.dataDir = dataDir;
    this.root = modelsRoot(dataDir);
  }

  modelDir(id: string): string {
    assertStoreId(id, 'model id');
    return path.join(this.root, id);
  }

  /** The models whose unfinished install or update (the app closed while compiling) a sweep cleaned up since the last call. */
  takeInterrupted(): string[] {
    const found = [...this.interrupted];
    this.interrupted.clear();
    return found;
  }

  /**
   * Cleans up what interrupted installs and swaps left (list() and beginInstall() do it first) and
   * records the models whose install or update was cut short, for takeInterrupted; the demo model
   * is rebuilt on its own, so it is not.
   */
  private async sweep(): Promise<void> {
    const ids = (await cleanupStaleSiblings(this.root)).filter((id) => id !== DEMO_MODEL_ID && isStoreId(id));
    for (const id of ids) this.interrupted.add(id);
  }

  /**
   * Every model folder, valid or not; leftovers of interrupted installs are swept up first.
   * Folders whose names are no model id ("my-model copy" from a file manager) are left out: no
   * model can be loaded or removed by such a name, and listing one would break the whole list.
   */
  async list(): Promise<InstalledModel[]> {
    await this.sweep();
    let entries;
    try {
      entries = await readdir(this.root, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw ioError(err, `list ${this.root}`);
    }
    const out: InstalledModel[] = [];
    for (const e of entries) {
      if (!e.isDirectory() || !isStoreId(e.name)) continue;
      const dir = path.join(this.root, e.name);
      try {
        out.push({ id: e.name, dir, manifest: await readManifest(dir), error: null });
      } catch (err) {
        out.push({ id: e.name, dir, manifest: null, error: AppError.fromUnknown(err).toData() });
      }
    }
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }

  async has(id: string): Promise<boolean> {
    return readManifest(this.modelDir(id)).then(() => true, () => false);
  }

  async manifest(id: string): Promise<ModelManifest> {
    return readManifest(this.modelDir(id));
  }

  async verify(id: string, options: VerifyOptions = {}): Promise<ModelManifest> {
    return (await verifyModel(this.modelDir(id), options)).manifest;
  }

  /** Verifies (sizes always, hashes when stale or `full`) and returns paths for the runtime. */
  async open(id: string, options: VerifyOptions = {}): Promise<OpenedModel> {
    const dir = this.modelDir(id);
    const manifest = await this.verify(id, options);
    const byName = new Map<string, GraphEntry>(manifest.graphs.map((g) => [g.name, g]));
    return {
      id,
      dir,
      manifest,
      graphPath: (name: string) => {
        const g = byName.get(name);
        if (!g) throw new AppError('model-mismatch', `Model ${id} has no graph "${name}" (it has ${[...byName.keys()].join(', ')})`);
        return fileInside(dir, g.file, 'model');
      },
    };
  }

  /** Whether `id` must be (re)compiled for `request`: source hashes, compiler version, precision and intact files. */
  async needsCompile(id: string, request: CompileRequest): Promise<CompileCheck> {
    const dir = this.modelDir(id);
    if (!(await stat(path.join(dir, MANIFEST_FILE)).catch(() => undefined))) return { needed: true, reason: 'not installed' };
    let manifest: ModelManifest;
    try {
      manifest = (await verifyModel(dir)).manifest;
    } catch (err) {
      return { needed: true, reason: AppError.fromUnknown(err).message };
    }
    if (manifest.compilerVersion !== request.compilerVersion) {
      return { needed: true, reason: `compiler version changed ${manifest.compilerVersion} -> ${request.compilerVersion}` };
    }
    if (request.flavour && manifest.flavour !== request.flavour) return { needed: true, reason: `flavour changed ${manifest.flavour} -> ${request.flavour}` };
    const sourceChanges = changedSourceFiles(manifest.source.files, request.source.files);
    if (sourceChanges.length) return { needed: true, reason: `source checkpoint changed: ${sourceChanges.join(', ')}` };
    if (request.codec) {
      const codecChanges = manifest.codec ? changedSourceFiles(manifest.codec.files, request.codec.files) : ['(no codec compiled)'];
      if (codecChanges.length) return { needed: true, reason: `codec checkpoint changed: ${codecChanges.join(', ')}` };
    }
    const wanted = Array.isArray(request.precision) ? request.precision : [request.precision];
    const lacking = wanted.filter((p) => !manifest.precisions.includes(p));
    if (lacking.length) return { needed: true, reason: `precision ${lacking.join(', ')} not compiled (has ${manifest.precisions.join(', ')})` };
    return { needed: false, reason: 'up to date' };
  }

  /**
   * Starts an install of `id`: the compiler writes its files under `install.dir`, then calls
   * `commit`. Another install of the same id, here or in another process, fails with 'exists'.
   */
  async beginInstall(id: string): Promise<ModelInstall> {
    const dest = this.modelDir(id);
    await makeFolders(this.root);
    await this.sweep();
    const release = await acquireLock(path.join(this.root, `.${id}.lock`), `Installing model ${id}`);
    const staging = tempSibling(dest, 'stage');
    try {
      await mkdir(staging);
    } catch (err) {
      await release();
      throw ioError(err, `create ${staging}`);
    }
    return new ModelInstall(id, staging, dest, release);
  }

  /**
   * Deletes a model folder (a broken one too). It is renamed out of the listing first, so it is
   * either installed as it was or gone, never half there; refused while an install or update of
   * it runs (here or in another process), and while another process has it loaded (see
   * loaded-marker.ts; this process unloads it first). A saved default choice of it is forgotten.
   * Deleting the renamed folder may fail (a file in use on Windows): the model is still removed,
   * and `leftover` names the folder, which the next start deletes.
   */
  async remove(id: string): Promise<RemoveOutcome> {
    const dir = this.modelDir(id);
    if (!(await stat(dir).catch(() => undefined))?.isDirectory()) throw new AppError('not-found', `Model ${id} is not installed (${dir})`);
    const release = await acquireLock(path.join(this.root, `.${id}.lock`), `Removing model ${id}`, (where) =>
      `Cannot remove model ${id}: it is being installed or updated ${where}; wait for that to finish or cancel it, then remove it`);
    try {
      // Deleting it would pull it from under the other process (or fail half-way on Windows).
      await refuseRemoveIfLoadedElsewhere(this.root, id);
      const outcome = await renameAwayAndDelete(dir, `remove model ${id}`);
      await this.forgetDefault(id);
      return outcome;
    } finally {
      await release();
    }
  }

  /** Removing the default model clears the choice, so reinstalling it later does not silently make it the default again. */
  private async forgetDefault(id: string): Promise<void> {
    // Best effort: an unremoved choice of a model that is not installed is ignored anyway.
    if ((await this.savedDefaultId()) === id) await rm(path.join(this.root, DEFAULT_CHOICE_FILE), { force: true }).catch(() => undefined);
  }

  /** The model id in the saved default choice, if the file is readable and holds one. */
  private async savedDefaultId(): Promise<unknown> {
    const saved = await readJson(path.join(this.root, DEFAULT_CHOICE_FILE)).catch(() => undefined);
    return (saved as { modelId?: unknown } | undefined)?.modelId;
  }

  async setDefault(id: string): Promise<void> {
    if (!(await this.has(id))) throw new AppError('not-found', `Cannot make ${id} the default model: it is not installed in ${this.root}`);
    await makeFolders(this.root);
    await writeJsonAtomic(path.join(this.root, DEFAULT_CHOICE_FILE), { modelId: id });
  }

  /**
   * The model to use when the user has not picked one: the saved choice if still installed, else
   * the newest installed real model, else the demo model (which may still need compiling).
   */
  async defaultModelId(): Promise<string> {
    const savedId = await this.savedDefaultId();
    if (typeof savedId === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(savedId) && (await this.has(savedId))) return savedId;
    const real = (await this.list()).filter((m) => m.manifest && m.id !== DEMO_MODEL_ID);
    real.sort((a, b) => b.manifest!.createdAt.localeCompare(a.manifest!.createdAt) || a.id.localeCompare(b.id));
    return real[0]?.id ?? DEMO_MODEL_ID;
  }
}

export class ModelInstall {
  readonly id: string;
  /** Staging folder: write graphs here. */
  readonly dir: string;
  private readonly dest: string;
  private readonly release: ReleaseLock;
  private state: 'open' | 'committed' | 'aborted' = 'open';

  constructor(id: string, dir: string, dest: string, release: ReleaseLock) {
    this.id = id;
    this.dir = dir;
    this.dest = dest;
    this.release = release;
  }

  /** Absolute path for a file of this install (checked to stay inside it). */
  path(file: string): string {
    return fileInside(this.dir, file, 'model');
  }

  /** Hashes the written files, writes manifest.json last and moves the model into place. */
  async commit(spec: InstallSpec): Promise<ModelManifest> {
    if (this.state !== 'open') throw new AppError('internal', `Install of ${this.id} was already ${this.state}`);
    try {
      const graphs: GraphEntry[] = [];
      const seenNames = new Set<string>();
      const seenFiles = new Set<string>();
      for (const g of spec.graphs) {
        if (seenNames.has(g.name)) throw new AppError('invalid-input', `Model ${this.id}: graph name ${g.name} is used twice`);
        seenNames.add(g.name);
        for (const f of [g.file, ...(g.externalData ?? [])]) {
          if (seenFiles.has(f) || f === MANIFEST_FILE) throw new AppError('invalid-input', `Model ${this.id}: file ${f} is listed twice or clashes with the manifest`);
          seenFiles.add(f);
        }
        const external = [];
        for (const x of g.externalData ?? []) external.push({ file: x, ...(await this.hashWritten(x)) });
        graphs.push({
          name: g.name,
          file: g.file,
          ...(await this.hashWritten(g.file)),
          ...(g.precision ? { precision: g.precision } : {}),
          ...(external.length ? { externalData: external } : {}),
        });
      }
      const files = [];
      for (const f of spec.files ?? []) {
        if (seenFiles.has(f) || f === MANIFEST_FILE) throw new AppError('invalid-input', `Model ${this.id}: file ${f} is listed twice or clashes with the manifest`);
        seenFiles.add(f);
        files.push({ file: f, ...(await this.hashWritten(f)) });
      }
      const manifest = checkManifest({
        formatVersion: MANIFEST_FORMAT_VERSION,
        compilerVersion: spec.compilerVersion,
        source: spec.source,
        ...(spec.codec ? { codec: spec.codec } : {}),
        flavour: spec.flavour,
        precisions: [...new Set(spec.precisions)],
        graphs,
        ...(files.length ? { files } : {}),
        ...(spec.label !== undefined ? { label: spec.label } : {}),
        createdAt: new Date().toISOString(),
      }, `for model ${this.id}`);
      await recordVerified(this.dir, manifestFiles(manifest));
      await writeJsonAtomic(path.join(this.dir, MANIFEST_FILE), manifest);
      await fsyncDir(this.dir);
      await swapInto(this.dir, this.dest);
      this.state = 'committed';
      return manifest;
    } catch (err) {
      await this.abort();
      throw err instanceof AppError ? err : ioError(err, `install model ${this.id}`);
    } finally {
      await this.release();
    }
  }

  /** Deletes the staging folder; the installed model (if any) is untouched. */
  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    await rm(this.dir, { recursive: true, force: true });
    await this.release();
  }

  private async hashWritten(file: string): Promise<{ sha256: string; size: number }> {
    const p = this.path(file);
    if (!(await stat(p).catch(() => undefined))?.isFile()) {
      throw new AppError('model-missing', `Model ${this.id}: the compiler did not write ${p}`);
    }
    await fsyncFile(p); // the manifest must never reach disk before the data it describes
    const { sha256, size } = await sha256File(p);
    return { sha256, size };
  }
}
