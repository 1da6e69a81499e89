// The user runtime for read-only installs: built whole or not at all, and a process started with
// its library path really runs ONNX Runtime from it and looks for the CUDA provider there.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../onnx/graph-builder.ts';
import { bindingDir, cudaLibraryNames, ortVersion } from './provider-libraries.ts';
import {
  addLibraryDirs, CORE_LIBRARY, findLibraryFolders, hostLibraryPath, installUserRuntime, libraryDirs, userRuntimeDir, userRuntimeReady,
} from './ort-user-runtime.ts';

const linux = process.platform === 'linux';

async function release(root: string, label = 'stand-in'): Promise<string> {
  const dir = join(root, 'onnxruntime-gpu', 'lib');
  await mkdir(dir, { recursive: true });
  for (const name of cudaLibraryNames()) await writeFile(join(dir, name), `${label} ${name}`);
  return join(root, 'onnxruntime-gpu');
}

describe.runIf(linux)('user ONNX Runtime folder', () => {
  it('is built whole from the bundled core library and a release, replaces the last one, and drops other versions', async () => {
    const root = await mkdtemp(join(tmpdir(), 'user-runtime-'));
    const data = join(root, 'data');
    const older = join(data, 'onnxruntime', `0.9.0-${process.platform}-${process.arch}`);
    await mkdir(older, { recursive: true });
    expect(userRuntimeReady(data)).toBe(false);
    expect(hostLibraryPath(data, undefined)).toBeUndefined();

    const dir = await installUserRuntime(await release(root), data);
    expect(dir).toBe(userRuntimeDir(data));
    expect(dir).toContain(ortVersion());
    expect((await readdir(dir)).sort()).toEqual([CORE_LIBRARY, ...cudaLibraryNames()].sort());
    expect(readFileSync(join(dir, CORE_LIBRARY)).equals(readFileSync(join(bindingDir()!, CORE_LIBRARY)))).toBe(true);
    expect(userRuntimeReady(data)).toBe(true);
    expect(existsSync(older)).toBe(false);
    expect(hostLibraryPath(data, '/opt/cuda/lib64')).toBe(`${dir}:/opt/cuda/lib64`);

    // A second setup replaces the libraries.
    await installUserRuntime(await release(join(root, 'second'), 'newer'), data);
    expect(readFileSync(join(dir, cudaLibraryNames()[0]), 'utf8')).toBe(`newer ${cudaLibraryNames()[0]}`);
  });

  it('keeps the previous runtime when a setup fails, and leaves no half-built folder', async () => {
    const root = await mkdtemp(join(tmpdir(), 'user-runtime-'));
    const data = join(root, 'data');
    const dir = await installUserRuntime(await release(root), data);
    const incomplete = join(root, 'incomplete');
    await mkdir(incomplete);
    await writeFile(join(incomplete, cudaLibraryNames()[0]), 'x');
    await expect(installUserRuntime(incomplete, data)).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringContaining(cudaLibraryNames()[1]) });
    // No core library to copy: refused before anything is touched.
    await expect(installUserRuntime(await release(join(root, 'again')), data, incomplete)).rejects.toMatchObject({ code: 'unavailable' });
    expect(readFileSync(join(dir, cudaLibraryNames()[0]), 'utf8')).toBe(`stand-in ${cudaLibraryNames()[0]}`);
    expect((await readdir(join(data, 'onnxruntime'))).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it("refuses a data folder with a ':' in its path, which the engine host's library path cannot hold, rather than report a runtime it never loads", async () => {
    const root = await mkdtemp(join(tmpdir(), 'user-runtime-'));
    const data = join(root, 'Backup: 2024', 'data');
    await expect(installUserRuntime(await release(root), data)).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringContaining("':'") });
    expect(existsSync(join(data, 'onnxruntime'))).toBe(false);
    // One made before (by hand or an older app) does not count as ready either.
    await mkdir(userRuntimeDir(data), { recursive: true });
    for (const name of [CORE_LIBRARY, ...cudaLibraryNames()]) await writeFile(join(userRuntimeDir(data), name), 'x');
    expect(userRuntimeReady(data)).toBe(false);
    expect(hostLibraryPath(data, undefined)).toBeUndefined();
  });

  it('keeps the added CUDA library folders, once each, after the runtime on the library path', async () => {
    const data = await mkdtemp(join(tmpdir(), 'user-runtime-'));
    expect(libraryDirs(data)).toEqual([]);
    await addLibraryDirs(data, ['/opt/cudnn/lib', '/home/u/venv/nvidia/cublas/lib']);
    await addLibraryDirs(data, ['/opt/cudnn/lib']);
    expect(libraryDirs(data)).toEqual(['/opt/cudnn/lib', '/home/u/venv/nvidia/cublas/lib']);
    expect(hostLibraryPath(data, undefined)).toBe('/opt/cudnn/lib:/home/u/venv/nvidia/cublas/lib');
    await expect(addLibraryDirs(data, ['/weird:name/lib'])).rejects.toMatchObject({ code: 'invalid-input' });
    // A damaged list reads as empty rather than failing the app.
    await writeFile(join(data, 'onnxruntime', 'library-dirs.json'), '{"dirs": [');
    expect(libraryDirs(data)).toEqual([]);
  });

  it('finds the folders holding given libraries, through file links, without entering linked folders', async () => {
    const root = await mkdtemp(join(tmpdir(), 'lib-search-'));
    const cublas = join(root, 'site-packages', 'nvidia', 'cublas', 'lib');
    const cudnn = join(root, 'site-packages', 'nvidia', 'cudnn', 'lib');
    await mkdir(cublas, { recursive: true });
    await mkdir(cudnn, { recursive: true });
    await writeFile(join(cublas, 'libcublas.so.13'), 'x');
    await writeFile(join(cudnn, 'libcudnn.so.9.1.0'), 'x');
    await symlink('libcudnn.so.9.1.0', join(cudnn, 'libcudnn.so.9'));
    await writeFile(join(cudnn, 'libcublas.so.12'), 'x');
    await symlink(root, join(cudnn, 'loop'));
    const found = await findLibraryFolders(root, ['libcublas.so.13', 'libcudnn.so.9', 'libcudart.so.13']);
    expect(found.sort()).toEqual([cublas, cudnn].sort());
    expect(await findLibraryFolders(join(root, 'missing'), ['libcublas.so.13'])).toEqual([]);
  });

  it('makes a process started with its library path run ONNX Runtime from it and look for the CUDA provider there', async () => {
    const root = await mkdtemp(join(tmpdir(), 'user-runtime-'));
    const data = join(root, 'data');
    const dir = await installUserRuntime(await release(root), data);
    // A one-node model for the CUDA provider to be asked to run.
    const b = new GraphBuilder({ name: 'identity' });
    b.output(b.op('Identity', [b.input('x', 'float32', [1])]), 'y', 'float32', [1]);
    const graph = join(root, 'identity.onnx');
    await writeFile(graph, b.encode());
    const script = `
      import * as ort from 'onnxruntime-node';
      import { loadedRuntimeDir } from ${JSON.stringify(join(import.meta.dirname, 'provider-libraries.ts'))};
      import { availableProviders } from ${JSON.stringify(join(import.meta.dirname, 'ort-session.ts'))};
      const out = { dir: loadedRuntimeDir(), cuda: availableProviders().has('cuda'), error: '' };
      await ort.InferenceSession.create(${JSON.stringify(graph)}, { executionProviders: ['cuda'] }).catch((e) => { out.error = e.message; });
      console.log(JSON.stringify(out));`;
    const run = (libraryPath: string | undefined): { out: { dir: string; cuda: boolean; error: string }; stderr: string } => {
      const env = { ...process.env, LD_LIBRARY_PATH: libraryPath ?? '' };
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: join(import.meta.dirname, '..', '..', '..'), env, encoding: 'utf8', timeout: 60_000 });
      expect(child.status, child.stderr).toBe(0);
      return { out: JSON.parse(child.stdout.trim().split('\n').pop()!), stderr: child.stderr };
    };
    const bundled = run(undefined);
    expect(bundled.out.dir).toBe(bindingDir());
    expect(bundled.out.cuda).toBe(false);

    const user = run(hostLibraryPath(data, undefined));
    expect(user.out.dir).toBe(dir);
    // The stand-in provider libraries count as installed there; loading them fails, from that folder.
    expect(user.out.cuda).toBe(true);
    expect(user.out.error).toMatch(/Failed to load shared library/);
    expect(user.stderr).toContain(join(dir, 'libonnxruntime_providers_shared.so'));
  });
});
