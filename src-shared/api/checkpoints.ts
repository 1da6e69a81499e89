// The checkpoints downloaded or imported into the data folder (gigabytes each), which the Model
// panel lists so the user can see and reclaim that space, unfinished downloads included.
import * as v from 'valibot';
import { AddPrecisionsSchema, CountSchema, InstallPrecisionsSchema, ModelIdSchema, RepoIdSchema, RevisionSchema, wellFormedText } from './common.ts';
import { MAX_STATUS_MESSAGE_CHARS } from './engine.ts';

const Message = wellFormedText(MAX_STATUS_MESSAGE_CHARS);

/** Checkpoint ids are folder names, with the same rules as model ids. */
export const CheckpointIdSchema = ModelIdSchema;

/** Finishes a download by the Update of model `modelId`, adding `addPrecisions` (Build fp16: ['fp16']). */
export const UpdateResumeSchema = v.strictObject({ modelId: ModelIdSchema, addPrecisions: AddPrecisionsSchema });
/** Finishes a download by installing Dia repo `repoId` again, with the precisions chosen (absent: this machine's default). */
export const InstallResumeSchema = v.strictObject({ repoId: RepoIdSchema, revision: RevisionSchema, precisions: v.optional(InstallPrecisionsSchema) });

export const CheckpointInfoSchema = v.strictObject({
  id: CheckpointIdSchema,
  /** null: not known (an unfinished download before its config.json arrived, a damaged folder). */
  kind: v.nullable(v.picklist(['dia', 'dac'])),
  /** "owner/name@revision" for a download, the folder an import came from; null when unknown. */
  origin: v.nullable(Message),
  /** Downloaded from the hub (fetched again when needed) or imported from a folder (imported again by hand); null when unknown. */
  source: v.nullable(v.picklist(['hub', 'folder'])),
  /** Bytes of its files on disk, partly downloaded ones included. */
  sizeBytes: CountSchema,
  /** Of those, bytes hard-linked from elsewhere too (an imported folder's files): deleting does not free them. */
  sharedBytes: CountSchema,
  state: v.picklist(['ready', 'unfinished', 'damaged']),
  /** What is wrong with an unfinished or damaged checkpoint. */
  problem: v.nullable(Message),
  /** Installed models compiled from it: they keep working without it, but Update / Build fp16 need it again. */
  usedBy: v.array(ModelIdSchema),
  /**
   * What finishes an unfinished download, as it was started: the Update of the model it was fetched
   * for with the precisions that update added (Build fp16: ['fp16']; an Update or Build fp16 fetches
   * the checkpoint at the commit the model was compiled from), or installing a Dia repo again, with
   * the precisions that install chose (absent: this machine's default).
   */
  resume: v.nullable(v.union([UpdateResumeSchema, InstallResumeSchema])),
});

export const RemoveCheckpointRequestSchema = v.strictObject({ id: CheckpointIdSchema });

export const RemoveCheckpointResultSchema = v.strictObject({
  /** The checkpoints after the deletion. */
  checkpoints: v.array(CheckpointInfoSchema),
  /** What the user should know besides "deleted" (files that could not be deleted yet), else null. */
  notice: v.nullable(Message),
});

export type CheckpointInfo = v.InferOutput<typeof CheckpointInfoSchema>;
export type RemoveCheckpointResult = v.InferOutput<typeof RemoveCheckpointResultSchema>;

/** A checkpoint's state in words (the Model panel and npm run checkpoints). */
export const CHECKPOINT_STATE_WORDS: Record<CheckpointInfo['state'], string> = { ready: 'complete', unfinished: 'download not finished', damaged: 'damaged' };
