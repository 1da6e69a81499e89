// The browser harness's command line, and stopping it: Ctrl+C closes it cleanly, a second Ctrl+C quits at once.
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { harnessArgs, stopOnSignals } from './studio-web.ts';

describe('stopOnSignals', () => {
  it('closes on the first signal and exits 0 once closed', async () => {
    const proc = new EventEmitter();
    const exits: number[] = [];
    let closes = 0;
    stopOnSignals(async () => void closes++, { target: proc, exit: (code) => void exits.push(code), log: () => {} });
    proc.emit('SIGTERM');
    await new Promise((r) => setImmediate(r));
    expect([closes, exits]).toEqual([1, [0]]);
  });

  it('closes cleanly when the terminal goes away (SIGHUP), as on a dropped SSH session', async () => {
    const proc = new EventEmitter();
    const exits: number[] = [];
    let closes = 0;
    stopOnSignals(async () => void closes++, { target: proc, exit: (code) => void exits.push(code), log: () => {} });
    proc.emit('SIGHUP');
    await new Promise((r) => setImmediate(r));
    expect([closes, exits]).toEqual([1, [0]]);
  });

  it('exits at once on a second signal while the close still hangs', () => {
    const proc = new EventEmitter();
    const exits: number[] = [];
    let closes = 0;
    const hanging = (): Promise<void> => {
      closes++;
      return new Promise(() => {});
    };
    stopOnSignals(hanging, { target: proc, exit: (code) => void exits.push(code), log: () => {} });
    proc.emit('SIGINT');
    expect(exits).toEqual([]);
    proc.emit('SIGINT');
    expect([closes, exits]).toEqual([1, [130]]);
  });
});

describe('harnessArgs', () => {
  // npm runs the script from the package root and records the user's folder in INIT_CWD.
  const root = path.resolve('/pkg');
  const user = path.join(root, 'sub');
  const npmEnv = { INIT_CWD: user, npm_lifecycle_event: 'studio:web', npm_package_json: path.join(root, 'package.json') };

  it('reads relative folders and files from the folder npm was run in, not the package root', () => {
    const args = ['--data-dir', 'data', '--export-dir', 'out', '--model-folder', 'm', '--cuda-folder', 'c', '--cuda-library-dir', 'l', '--voice-clip', 'v.wav', '--project-file', 'p.diaproj'];
    expect(harnessArgs(args, npmEnv, root)).toMatchObject({
      dataDir: path.join(user, 'data'),
      exportDir: path.join(user, 'out'),
      modelFolder: path.join(user, 'm'),
      cudaFolder: path.join(user, 'c'),
      cudaLibraryDir: path.join(user, 'l'),
      voiceClip: path.join(user, 'v.wav'),
      projectFile: path.join(user, 'p.diaproj'),
    });
  });

  it('puts exports under the data folder unless told otherwise', () => {
    expect(harnessArgs(['--data-dir', 'data'], npmEnv, root)).toMatchObject({ exportDir: path.join(user, 'data', 'exports'), modelFolder: undefined });
  });
});
