// The path a save dialog's answer stands for. On Linux, Electron's save dialog returns the name
// as typed: "pilot" instead of "pilot.diaproj", a file the app's own open dialog then hides (it
// filters on the extension) and players do not recognise. The filter's extension is added here;
// when that names an existing file the dialog never asked about, it is shown again with that
// name, so overwriting is still the user's call.
import { pathExists } from '../engine/models/atomic-fs.ts';

export interface SaveDialogAnswer {
  canceled: boolean;
  filePath?: string;
}

/** Shows the save dialog with `defaultPath` filled in. */
export type SaveDialog = (defaultPath: string) => Promise<SaveDialogAnswer>;

/** `filePath` ending in one of `extensions` (case-insensitive), the first added when it does not. */
export function withExtension(filePath: string, extensions: readonly string[]): string {
  if (extensions.length === 0) return filePath;
  const lower = filePath.toLowerCase();
  if (extensions.some((ext) => lower.endsWith(`.${ext.toLowerCase()}`))) return filePath;
  return `${filePath.replace(/\.+$/, '')}.${extensions[0]}`;
}

/** The path to write, or null when the user dismissed the dialog. */
export async function chooseSavePath(
  show: SaveDialog,
  suggestedName: string,
  extensions: readonly string[],
  exists: (p: string) => Promise<boolean> = pathExists,
): Promise<string | null> {
  let defaultPath = suggestedName;
  for (;;) {
    const answer = await show(defaultPath);
    if (answer.canceled || !answer.filePath) return null;
    const target = withExtension(answer.filePath, extensions);
    if (target === answer.filePath || !(await exists(target))) return target;
    defaultPath = target;
  }
}
