// The checkpoints half of the Model panel: listing what the data folder keeps (downloads, imports,
// unfinished downloads) and deleting one, on its own or with the model that was compiled from it.
// An install keeps the checkpoints it compiles from (useCheckpoint): deleting one is refused then.
import { clipMessage } from '../../src-shared/errors.ts';
import type { CheckpointInfo, RemoveCheckpointResult } from '../../src-shared/api/checkpoints.ts';
import { MAX_STATUS_MESSAGE_CHARS, type RemoveModelResult } from '../../src-shared/api/engine.ts';
import { describeCheckpoints, removeCheckpoint, removeModelWithCheckpoints, type CheckpointEntry } from '../engine/models/checkpoint-store.ts';
import { leftoverWords } from '../engine/models/staging.ts';
import type { StudioBackend } from '../render/studio-backend.ts';

export class CheckpointService {
  private readonly backend: StudioBackend;
  /** Told the folders of deleted checkpoints (the engine status's note of unfinished downloads follows). */
  private readonly deleted: (dirs: readonly string[]) => void;

  constructor(backend: StudioBackend, deleted: (dirs: readonly string[]) => void = () => undefined) {
    this.backend = backend;
    this.deleted = deleted;
  }

  async list(): Promise<CheckpointInfo[]> {
    return (await describeCheckpoints(this.backend.dataDir, await this.backend.models.list())).map(toInfo);
  }

  /** Deletes a checkpoint; models compiled from it keep working (they never read it). */
  async remove(id: string): Promise<RemoveCheckpointResult> {
    const { dir, leftover } = await removeCheckpoint(this.backend.dataDir, id);
    this.deleted([dir]);
    const notice = leftover ? clipMessage(`Deleted checkpoint ${id}, but ${leftoverWords(leftover)}`, MAX_STATUS_MESSAGE_CHARS) : null;
    return { checkpoints: await this.list(), notice };
  }

  /**
   * Removes a model with `remove`, then the checkpoints it was compiled from that no other model
   * uses; the notice says which were kept and why, or left files behind (the list shows what went).
   */
  async removeModelWithCheckpoints(modelId: string, remove: () => Promise<RemoveModelResult>): Promise<RemoveModelResult> {
    const { removed, checkpoints } = await removeModelWithCheckpoints(this.backend.models, modelId, remove);
    // Removing the model reviewed the note (ModelService.removeModel); the deleted folders only drop out of it.
    this.deleted(checkpoints.flatMap(({ dir }) => (dir !== null ? [dir] : [])));
    const notes = checkpoints.map(({ id, error, leftover }) =>
      error ? `Kept ${id === null ? 'the checkpoints it was compiled from' : `checkpoint ${id}`}: ${error.message}`
      : leftover ? `Deleted checkpoint ${id}, but ${leftoverWords(leftover)}`
      : null);
    const notice = [removed.notice, ...notes].filter((p): p is string => p !== null).join(' ');
    return { ...removed, notice: notice ? clipMessage(notice, MAX_STATUS_MESSAGE_CHARS) : null };
  }
}

function toInfo(c: CheckpointEntry): CheckpointInfo {
  const clip = (s: string | null): string | null => (s === null ? null : clipMessage(s, MAX_STATUS_MESSAGE_CHARS));
  return { id: c.id, kind: c.kind, origin: clip(c.origin), source: c.source, sizeBytes: c.sizeBytes, sharedBytes: c.sharedBytes, state: c.state, problem: clip(c.problem), usedBy: c.usedBy, resume: c.resume };
}
