// The checkpoints half of the Model panel: listing what the data folder keeps (downloads, imports,
// unfinished downloads) and deleting one, on its own or with the model that was compiled from it.
import { AppError, clipMessage } from '../../src-shared/errors.ts';
import type { CheckpointInfo, RemoveCheckpointResult } from '../../src-shared/api/checkpoints.ts';
import { MAX_STATUS_MESSAGE_CHARS, type RemoveModelResult } from '../../src-shared/api/engine.ts';
import { describeCheckpoints, removeCheckpoint, removeOrphanedCheckpoints, type CheckpointEntry } from '../engine/models/checkpoint-store.ts';
import type { StudioBackend } from '../render/studio-backend.ts';

export class CheckpointService {
  private readonly backend: StudioBackend;
  /** Whether an install or update runs in this process: once its download is done it compiles from checkpoints without a lock. */
  private readonly installing: () => boolean;

  constructor(backend: StudioBackend, installing: () => boolean) {
    this.backend = backend;
    this.installing = installing;
  }

  async list(): Promise<CheckpointInfo[]> {
    return (await describeCheckpoints(this.backend.dataDir, await this.backend.models.list())).map(toInfo);
  }

  /** Deletes a checkpoint; models compiled from it keep working (they never read it). */
  async remove(id: string): Promise<RemoveCheckpointResult> {
    this.refuseWhileInstalling(`delete checkpoint ${id}`);
    const { leftover } = await removeCheckpoint(this.backend.dataDir, id);
    const notice = leftover
      ? `Deleted checkpoint ${id}, but some of its files could not be deleted yet (${leftover.message}). They are in ${leftover.dir}, which is deleted the next time Dia Studio starts; you can also delete that folder yourself.`
      : null;
    return { checkpoints: await this.list(), notice: notice && clipMessage(notice, MAX_STATUS_MESSAGE_CHARS) };
  }

  /**
   * Removes a model with `remove`, then the checkpoints it was compiled from that no other model
   * uses; the notice says which were kept and why, or left files behind (the list shows what went).
   */
  async removeModelWithCheckpoints(modelId: string, remove: () => Promise<RemoveModelResult>): Promise<RemoveModelResult> {
    this.refuseWhileInstalling(`delete the checkpoints of ${modelId}`, ', or remove the model without its checkpoints');
    // A broken model has no readable manifest: nothing says which checkpoints it was built from.
    const manifest = await this.backend.models.manifest(modelId).catch(() => null);
    const result = await remove();
    if (!manifest) return result;
    const deletions = await removeOrphanedCheckpoints(this.backend.dataDir, manifest, await this.backend.models.list());
    const notes = deletions.map(({ entry, error, leftover }) =>
      error ? `Kept checkpoint ${entry.id}: ${error.message}`
      : leftover ? `Deleted checkpoint ${entry.id}; some of its files are left in ${leftover.dir} (${leftover.message}), deleted the next time Dia Studio starts.`
      : null);
    const notice = [result.notice, ...notes].filter((p): p is string => p !== null).join(' ');
    return { ...result, notice: notice ? clipMessage(notice, MAX_STATUS_MESSAGE_CHARS) : null };
  }

  private refuseWhileInstalling(what: string, orElse = ''): void {
    if (this.installing()) {
      throw new AppError('exists', `Cannot ${what} while a model is being installed or updated (it may be compiled from it). Wait for that to finish or cancel it${orElse}.`);
    }
  }
}

function toInfo(c: CheckpointEntry): CheckpointInfo {
  const clip = (s: string | null): string | null => (s === null ? null : clipMessage(s, MAX_STATUS_MESSAGE_CHARS));
  const resume = c.resume ? { repoId: c.resume.repo, revision: c.resume.revision } : null;
  return { id: c.id, kind: c.kind, origin: clip(c.origin), source: c.source, sizeBytes: c.sizeBytes, sharedBytes: c.sharedBytes, state: c.state, problem: clip(c.problem), usedBy: c.usedBy, resume };
}
