// What the header says about installs an earlier run left unfinished: compiles the model store
// cleaned up (a new model is gone, an updated one is as it was) and checkpoint downloads the app
// was closed in the middle of (their files are kept, to resume). Several sweeps may find them;
// they add up to one note, and an install that ends drops only what it covered.
import path from 'node:path';
import { clipMessage } from '../../src-shared/errors.ts';
import { MAX_STATUS_MESSAGE_CHARS } from '../../src-shared/api/engine.ts';
import { pathExists } from '../engine/models/atomic-fs.ts';
import { listCheckpoints } from '../engine/models/checkpoint-record.ts';
import { describeCheckpoints } from '../engine/models/checkpoint-store.ts';
import { downloadLockPath } from '../engine/models/paths.ts';
import { acquireLock } from '../engine/models/process-lock.ts';
import type { InstalledModel } from '../engine/models/store.ts';

export interface CutShortDownload {
  dir: string;
  /** "owner/name@revision", or null when the folder does not say. */
  origin: string | null;
  /** Whether the Model panel offers Resume for it (else an install from the hub finishes it). */
  resumable: boolean;
}

/**
 * The unfinished downloads whose process ended without finishing, cancelling or failing them (each
 * of those releases the download's lock; a closed app leaves it). A lock of a live process (a
 * download running here or in another window, or the CLI) is left alone. The stale lock is taken
 * over and released, so each is told once; its files stay for Resume.
 */
export async function takeCutShortDownloads(dataDir: string, models: readonly InstalledModel[]): Promise<CutShortDownload[]> {
  // Most starts find no lock: only then is every checkpoint described (which sizes each folder).
  const locked = new Set<string>();
  for (const c of await listCheckpoints(dataDir)) {
    if (!c.record && (await pathExists(downloadLockPath(c.dir)).catch(() => false))) locked.add(c.dir);
  }
  if (locked.size === 0) return [];
  const found: CutShortDownload[] = [];
  for (const c of await describeCheckpoints(dataDir, models)) {
    if (c.state !== 'unfinished' || !locked.has(c.dir)) continue;
    // Refused while its owner lives; a lock that cannot be read or taken tells nothing either.
    const release = await acquireLock(downloadLockPath(c.dir), `Checking the download into ${c.dir}`).catch(() => null);
    if (!release) continue;
    await release();
    found.push({ dir: c.dir, origin: c.origin, resumable: c.resume !== null });
  }
  return found;
}

export class InterruptedNote {
  /** Models whose compile was cut short: 'install' (it is gone) or 'update' (it is as it was). */
  private readonly models = new Map<string, 'install' | 'update'>();
  /** By folder. */
  private readonly downloads = new Map<string, CutShortDownload>();

  /** Adds models found cut short, `installed` telling which are still there; the latest finding of one wins. */
  addModels(ids: readonly string[], installed: readonly boolean[]): void {
    ids.forEach((id, i) => {
      this.models.delete(id); // listed in the order found
      this.models.set(id, installed[i] ? 'update' : 'install');
    });
  }

  addDownloads(downloads: readonly CutShortDownload[]): void {
    for (const d of downloads) this.downloads.set(path.resolve(d.dir), d);
  }

  /** Drops what an install that ended covered: the model it built and the checkpoints it downloaded or compiled from. Returns whether the note changed. */
  settle(modelId: string | null, checkpointDirs: readonly string[]): boolean {
    let changed = modelId !== null && this.models.delete(modelId);
    for (const dir of checkpointDirs) changed = this.downloads.delete(path.resolve(dir)) || changed;
    return changed;
  }

  /**
   * Keeps what it tells of downloads true to the checkpoints now (`models`: the installed ones): a
   * download deleted or finished since is dropped, and so is one whose Resume went with the model
   * it was for (the user removed that model). Returns whether the note changed.
   */
  async review(dataDir: string, models: () => Promise<readonly InstalledModel[]>): Promise<boolean> {
    if (this.downloads.size === 0) return false;
    const listed = await describeCheckpoints(dataDir, await models());
    let changed = false;
    for (const [key, d] of this.downloads) {
      const now = listed.find((c) => path.resolve(c.dir) === key);
      const resumable = now?.state === 'unfinished' ? now.resume !== null : null;
      if (resumable === d.resumable) continue;
      if (resumable === null || d.resumable) this.downloads.delete(key);
      else this.downloads.set(key, { ...d, resumable });
      changed = true;
    }
    return changed;
  }

  clear(): void {
    this.models.clear();
    this.downloads.clear();
  }

  /** The note in words, or null when there is nothing to tell. */
  message(): string | null {
    const of = (kind: 'install' | 'update'): string => [...this.models].filter(([, k]) => k === kind).map(([id]) => id).join(', ');
    const parts = [];
    if (of('install')) parts.push(`An unfinished install of ${of('install')} was cleaned up: install it again in the Model panel (files already downloaded are kept and not downloaded again).`);
    if (of('update')) parts.push(`An unfinished update of ${of('update')} was cleaned up: it is installed as it was before; update it again in the Model panel.`);
    for (const d of this.downloads.values()) {
      const what = d.origin ?? `checkpoint ${path.basename(d.dir)}`;
      parts.push(d.resumable
        ? `The download of ${what} was not finished: Resume it under Downloaded checkpoints in the Model panel (what was downloaded is kept).`
        : `The download of ${what} was not finished: install the model from the hub again in the Model panel to finish it (what was downloaded is kept).`);
    }
    return parts.length ? clipMessage(`Dia Studio closed before an install finished. ${parts.join(' ')}`, MAX_STATUS_MESSAGE_CHARS) : null;
  }
}
