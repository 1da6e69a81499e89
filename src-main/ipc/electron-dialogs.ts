// Native dialogs for the desktop app. Paths only ever come from these dialogs (never from the
// renderer); a dismissed dialog is null, not an error.
import { dialog, type BrowserWindow, type OpenDialogOptions, type SaveDialogOptions } from 'electron';
import { PROJECT_FILE_EXTENSION } from '../../src-shared/api/projects.ts';
import type { DialogService, SaveTargetRequest } from '../app/services.ts';
import { chooseSavePath } from './save-path.ts';

/** Voice clips are read as WAV only (app/voice-service.ts says so when given anything else). */
const VOICE_CLIP_EXTENSIONS = ['wav'];

export function electronDialogs(window: () => BrowserWindow | null): DialogService {
  async function openOne(options: OpenDialogOptions): Promise<string | null> {
    const parent = window();
    const result = parent ? await dialog.showOpenDialog(parent, options) : await dialog.showOpenDialog(options);
    return result.canceled || result.filePaths.length === 0 ? null : result.filePaths[0];
  }

  return {
    chooseModelFolder: () =>
      openOne({ title: 'Import a model folder (Dia and DAC checkpoints)', buttonLabel: 'Import', properties: ['openDirectory', 'dontAddToRecent'] }),
    chooseCudaFolder: () =>
      openOne({ title: 'Choose the ONNX Runtime GPU folder holding the CUDA provider libraries', buttonLabel: 'Add libraries', properties: ['openDirectory', 'dontAddToRecent'] }),
    chooseVoiceClip: () =>
      openOne({
        title: 'Choose a voice prompt clip',
        buttonLabel: 'Use as voice',
        properties: ['openFile', 'dontAddToRecent'],
        filters: [{ name: 'WAV audio', extensions: VOICE_CLIP_EXTENSIONS }],
      }),
    chooseProjectFile: () =>
      openOne({
        title: 'Open a Dia Studio project file',
        buttonLabel: 'Open',
        properties: ['openFile'],
        filters: [{ name: 'Dia Studio project', extensions: [PROJECT_FILE_EXTENSION.slice(1)] }],
      }),
    async chooseExportTarget(request: SaveTargetRequest) {
      if (request.kind === 'folder') {
        return openOne({ title: `Choose a folder for "${request.suggestedName}"`, buttonLabel: 'Export here', properties: ['openDirectory', 'createDirectory'] });
      }
      const show = async (defaultPath: string) => {
        const parent = window();
        const options: SaveDialogOptions = { title: 'Export', defaultPath, filters: request.filter ? [request.filter] : [], properties: ['createDirectory', 'showOverwriteConfirmation'] };
        return parent ? dialog.showSaveDialog(parent, options) : dialog.showSaveDialog(options);
      };
      return chooseSavePath(show, request.suggestedName, request.filter?.extensions ?? []);
    },
  };
}
