// Dialogs for the browser harness. There is no native dialog on a headless box, and the page must
// never send a path, so the paths come from the harness command line: exports go to a folder the
// operator chose (each under a fresh, safe name), imports read the folder or file given at start.
import path from 'node:path';
import { AppError } from '../../src-shared/errors.ts';
import { safeFileName } from '../app/file-names.ts';
import { makeFolders, pathExists } from '../engine/models/atomic-fs.ts';
import type { DialogService, SaveTargetRequest } from '../app/services.ts';

export interface HarnessDialogOptions {
  /** Where exports are written. */
  exportDir: string;
  /** Folder "picked" by Import model folder (--model-folder). */
  modelFolder?: string;
  /** Folder "picked" by Add CUDA libraries (--cuda-folder). */
  cudaFolder?: string;
  /** Audio file "picked" by Import voice prompt (--voice-clip). */
  voiceClip?: string;
  /** .diaproj file "picked" by Open project file (--project-file). */
  projectFile?: string;
}

/** `dir/name`, or `dir/name (2)` etc. when taken, keeping the extension last. */
export async function freshPathIn(dir: string, name: string): Promise<string> {
  const safe = safeFileName(name, 'export');
  const ext = path.extname(safe);
  const stem = safe.slice(0, safe.length - ext.length);
  for (let n = 1; n < 10_000; n++) {
    const candidate = path.join(dir, n === 1 ? safe : `${stem} (${n})${ext}`);
    if (!(await pathExists(candidate))) return candidate;
  }
  throw new AppError('exists', `Could not find a free file name for "${safe}" in ${dir}`);
}

export function harnessDialogs(options: HarnessDialogOptions): DialogService {
  return {
    async chooseModelFolder() {
      if (!options.modelFolder) {
        throw new AppError('unavailable', 'The browser harness has no folder dialog: restart studio:web with --model-folder DIR to import the checkpoints in DIR');
      }
      return path.resolve(options.modelFolder);
    },
    async chooseCudaFolder() {
      if (!options.cudaFolder) {
        throw new AppError('unavailable', 'The browser harness has no folder dialog: restart studio:web with --cuda-folder DIR to add the CUDA libraries in DIR');
      }
      return path.resolve(options.cudaFolder);
    },
    async chooseVoiceClip() {
      if (!options.voiceClip) {
        throw new AppError('unavailable', 'The browser harness has no file dialog: restart studio:web with --voice-clip FILE to import FILE as a voice prompt');
      }
      return path.resolve(options.voiceClip);
    },
    async chooseProjectFile() {
      if (!options.projectFile) {
        throw new AppError('unavailable', 'The browser harness has no file dialog: restart studio:web with --project-file FILE to open FILE as a project');
      }
      return path.resolve(options.projectFile);
    },
    async chooseExportTarget(request: SaveTargetRequest) {
      const dir = path.resolve(options.exportDir);
      await makeFolders(dir);
      return freshPathIn(dir, request.suggestedName);
    },
  };
}
