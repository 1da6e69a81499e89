// `npm run studio:web`: the browser harness. Serves the Dia Studio UI at http://127.0.0.1:PORT
// against the same engine and stores as the desktop app, running in this Node process (inference
// in a child process started with the data folder's library path, as the app's utilityProcess is).
// PORT: --port, else $DIA_STUDIO_PORT, else $PORT, else 5317.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AppError } from '../../src-shared/errors.ts';
import { composeServices } from '../app/compose-services.ts';
import { AppEventHub } from '../app/event-hub.ts';
import { cliDataDir, userPath } from '../cli/cli-support.ts';
import { processChannel } from '../engine/host/process-channel.ts';
import { hostLibraryPath } from '../engine/runtime/ort-user-runtime.ts';
import { harnessDialogs } from './harness-dialogs.ts';
import { DEFAULT_PORT, startStudioServer } from './studio-server.ts';
import { ensureWebBuild } from './web-build.ts';

const USAGE = `Usage: npm run studio:web -- [options]

  --port N            port on 127.0.0.1 (default: $DIA_STUDIO_PORT, $PORT, or ${DEFAULT_PORT}; 0 = any free port)
  --data-dir DIR      app data folder (default: $DIA_STUDIO_DATA_DIR or the per-user app data folder)
  --export-dir DIR    where exports are written (default: DATA_DIR/exports)
  --model-folder DIR  folder that "Import model folder" imports (the harness has no folder dialog)
  --cuda-folder DIR   folder that "Add CUDA libraries" copies the CUDA provider libraries from
  --cuda-library-dir DIR  where those go (default: ONNX Runtime's binding folder, where it loads them,
                      or a user runtime in the data folder where that folder is read-only)
  --voice-clip FILE   audio file that "Import voice prompt" imports
  --project-file FILE .diaproj file that "Open project file" opens
  --rebuild           rebuild the web UI even if dist-web looks current
  --help              show this help`;

const repoRoot = path.resolve(import.meta.dirname, '..', '..');

export function parsePort(value: string | undefined, what: string): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new AppError('invalid-input', `${what} must be a port number 0-65535, got "${value}"`);
  return port;
}

/**
 * The harness's options from its command line. Relative paths are the user's: npm runs the
 * script from the package root (see userPath).
 */
export function harnessArgs(args: string[], env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()) {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      'export-dir': { type: 'string' },
      'model-folder': { type: 'string' },
      'cuda-folder': { type: 'string' },
      'cuda-library-dir': { type: 'string' },
      'voice-clip': { type: 'string' },
      'project-file': { type: 'string' },
      rebuild: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const user = (p: string | undefined): string | undefined => (p === undefined ? undefined : userPath(p, env, cwd));
  const dataDir = cliDataDir(values['data-dir'], env, cwd);
  return {
    help: values.help,
    rebuild: values.rebuild,
    port: values.port,
    dataDir,
    exportDir: user(values['export-dir']) ?? path.join(dataDir, 'exports'),
    modelFolder: user(values['model-folder']),
    cudaFolder: user(values['cuda-folder']),
    cudaLibraryDir: user(values['cuda-library-dir']),
    voiceClip: user(values['voice-clip']),
    projectFile: user(values['project-file']),
  };
}

async function main(): Promise<void> {
  const args = harnessArgs(process.argv.slice(2));
  const { dataDir } = args;
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const port = parsePort(args.port, '--port') ?? parsePort(process.env.DIA_STUDIO_PORT, 'DIA_STUDIO_PORT') ?? parsePort(process.env.PORT, 'PORT') ?? DEFAULT_PORT;
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };

  const webRoot = await ensureWebBuild({ root: repoRoot, force: args.rebuild, log: (line) => console.log(line) });
  const events = new AppEventHub();
  const services = await composeServices({
    dataDir,
    engineHost: () => processChannel(hostLibraryPath(dataDir)),
    hostTakesLibraryPath: true,
    dialogs: harnessDialogs(args),
    events,
    cudaLibraryDir: args.cudaLibraryDir,
  });
  const server = await startStudioServer({
    port,
    webRoot,
    services,
    events,
    identity: { appName: 'Dia Studio', appVersion: pkg.version, transport: 'web', platform: process.platform },
  });
  console.log(`Dia Studio (browser harness) is running at ${server.url}`);
  console.log(`Data folder: ${dataDir}. Press Ctrl+C to stop.`);

  stopOnSignals(() => Promise.allSettled([server.close(), services.close()]));
}

interface StopOptions {
  target?: Pick<NodeJS.EventEmitter, 'on'>;
  exit?: (code: number) => void;
  log?: (line: string) => void;
}

/**
 * Ctrl+C (or SIGTERM, or SIGHUP: a closed terminal or a dropped SSH session) closes the server and
 * services, then exits: a running export removes its temp files. Closing can hang on a client or
 * the engine host, so a second signal exits at once (130, as a shell reports an interrupt).
 */
export function stopOnSignals(close: () => Promise<unknown>, options: StopOptions = {}): void {
  const { target = process, exit = (code: number) => process.exit(code), log = (line: string) => console.log(line) } = options;
  let stopping = false;
  const stop = (): void => {
    if (stopping) return exit(130);
    stopping = true;
    log('Stopping… press Ctrl+C again to quit at once.');
    void close().then(() => exit(0), () => exit(1));
  };
  target.on('SIGINT', stop);
  target.on('SIGTERM', stop);
  target.on('SIGHUP', stop);
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    const e = AppError.fromUnknown(err);
    console.error(`studio:web: ${e.message}`);
    process.exit(1);
  });
}
