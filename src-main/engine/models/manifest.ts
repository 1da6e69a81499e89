// manifest.json of a compiled model: what it was compiled from, by which compiler, and the exact
// bytes of every graph file. It is written last, so its presence marks a complete model.
import * as v from 'valibot';
import { AppError } from '../../../src-shared/errors.ts';
import { isSafeRelativeName } from './paths.ts';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT_VERSION = 1;

export const PRECISIONS = ['fp32', 'fp16', 'int4'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** Dia weight generations: 'v1' = Dia-1.6B (cross-attention RoPE), '0626' = Dia-1.6B-0626. */
export const DIA_FLAVOURS = ['0626', 'v1'] as const;
export type DiaFlavour = (typeof DIA_FLAVOURS)[number];

const Sha256Schema = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex sha256'));
const SizeSchema = v.pipe(v.number(), v.integer(), v.minValue(0));
const NameSchema = v.pipe(v.string(), v.minLength(1));
const FileNameSchema = v.pipe(v.string(), v.check((name: string) => isSafeRelativeName(name), 'must be a relative path inside the model folder'));

export const SourceFileSchema = v.object({ name: FileNameSchema, size: SizeSchema, sha256: Sha256Schema });

const SourceRefSchema = v.object({
  repo: v.optional(v.string()),
  revision: v.optional(v.string()),
  /** Commit the revision resolved to when downloaded (a branch name moves, a commit does not). */
  commit: v.optional(v.string()),
  /** Folder holding the checkpoint: relative to the data folder when inside it, else absolute. */
  dir: v.optional(v.string()),
  files: v.array(SourceFileSchema),
});

const GraphFileSchema = v.object({ file: FileNameSchema, sha256: Sha256Schema, size: SizeSchema });

const GraphEntrySchema = v.object({
  name: NameSchema,
  file: FileNameSchema,
  sha256: Sha256Schema,
  size: SizeSchema,
  precision: v.optional(v.picklist(PRECISIONS)),
  externalData: v.optional(v.array(GraphFileSchema)),
});

const ManifestSchema = v.object({
  formatVersion: v.literal(MANIFEST_FORMAT_VERSION),
  compilerVersion: NameSchema,
  source: SourceRefSchema,
  /** The DAC checkpoint the codec graphs were compiled from, when the model bundles them. */
  codec: v.optional(SourceRefSchema),
  flavour: v.picklist(DIA_FLAVOURS),
  precisions: v.pipe(v.array(v.picklist(PRECISIONS)), v.minLength(1)),
  graphs: v.pipe(v.array(GraphEntrySchema), v.minLength(1)),
  /**
   * Other files the runtime reads, hashed like the graphs: the graphs' descriptions (dia-graphs.json,
   * dac-graphs.json), which carry the runtime config. Absent in manifests of earlier versions.
   */
  files: v.optional(v.array(GraphFileSchema)),
  label: v.optional(v.string()),
  createdAt: v.pipe(v.string(), v.isoTimestamp()),
});

export type SourceFile = v.InferOutput<typeof SourceFileSchema>;
export type SourceRef = v.InferOutput<typeof SourceRefSchema>;
export type GraphFile = v.InferOutput<typeof GraphFileSchema>;
export type GraphEntry = v.InferOutput<typeof GraphEntrySchema>;
export type ModelManifest = v.InferOutput<typeof ManifestSchema>;

/** Parses manifest text; `file` names the manifest in error messages. */
export function parseManifest(text: string, file: string): ModelManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new AppError('model-corrupt', `Model manifest ${file} is not valid JSON`);
  }
  const version = (raw as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof version === 'number' && version !== MANIFEST_FORMAT_VERSION) {
    const hint = version > MANIFEST_FORMAT_VERSION ? 'it was written by a newer Dia Studio' : 'recompile the model';
    throw new AppError('model-mismatch', `Model manifest ${file} has format version ${version}, this build reads ${MANIFEST_FORMAT_VERSION} (${hint})`);
  }
  const parsed = v.safeParse(ManifestSchema, raw);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const where = v.getDotPath(issue) ?? '(root)';
    throw new AppError('model-corrupt', `Model manifest ${file} is invalid at ${where}: ${issue.message}`);
  }
  return parsed.output;
}

/** Validates a manifest before it is written, so a compiler bug cannot install an unreadable model. */
export function checkManifest(manifest: ModelManifest, what: string): ModelManifest {
  return parseManifest(JSON.stringify(manifest), what);
}

/** Names of files whose content differs between two source lists (added, removed or changed). */
export function changedSourceFiles(before: readonly SourceFile[], after: readonly SourceFile[]): string[] {
  const key = (f: SourceFile): string => `${f.size}:${f.sha256}`;
  const a = new Map(before.map((f) => [f.name, key(f)]));
  const b = new Map(after.map((f) => [f.name, key(f)]));
  const names = new Set([...a.keys(), ...b.keys()]);
  return [...names].filter((n) => a.get(n) !== b.get(n)).sort();
}

/** Every file a manifest installs, graph files and their external data, then the other files, in a stable order. */
export function manifestFiles(manifest: ModelManifest): GraphFile[] {
  const out: GraphFile[] = [];
  for (const g of manifest.graphs) {
    out.push({ file: g.file, sha256: g.sha256, size: g.size });
    for (const x of g.externalData ?? []) out.push(x);
  }
  out.push(...(manifest.files ?? []));
  return out;
}
