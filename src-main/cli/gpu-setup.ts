// npm run gpu:setup [-- --from DIR | --download]
// Reports which execution providers this install can use and whether CUDA really runs; installs
// the CUDA provider libraries beside the onnxruntime-node binding:
//   --from DIR    copy them from an ONNX Runtime GPU build of the same version unpacked in DIR (a
//                 release's lib folder, or the onnxruntime/capi folder of the onnxruntime-gpu wheel)
//   --download    run onnxruntime-node's own installer for CUDA 12 (needs network access)
// The CUDA runtime, cuBLAS and cuDNN 9 that the provider build needs (CUDA 13 for the onnxruntime-gpu
// 1.30 wheel) must be on the library path (LD_LIBRARY_PATH / PATH); when they are not, the missing
// ones are named. Exit codes: 0 CUDA works, 1 setup failed, 2 CUDA still unavailable, 64 a bad
// command line (with the usage; sysexits' EX_USAGE, since 2 already means "unavailable" here).
import * as ort from 'onnxruntime-node';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AppError } from '../../src-shared/errors.ts';
import { bindingDir, copyCudaLibraries, cudaLibraryNames, missingLibraries, ortPackageDir } from '../engine/runtime/provider-libraries.ts';
import { availableProviders } from '../engine/runtime/ort-session.ts';
import { probeProvider } from '../engine/runtime/provider-probe.ts';
import { exitWithError, UsageError, userPath } from './cli-support.ts';

const USAGE = 'usage: npm run gpu:setup [-- --from DIR | --download]  (checks CUDA; installs its provider libraries from DIR or by download)';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { from: { type: 'string' }, download: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
  if (values.from !== undefined && values.download) throw new UsageError('give --from DIR or --download, not both');
  const dir = bindingDir();
  if (!dir) throw new AppError('unavailable', 'onnxruntime-node is not installed (run npm ci first)');
  const say = (line: string): boolean => process.stdout.write(`${line}\n`);
  say(`onnxruntime-node ${ort.env.versions.common}, binding folder ${dir}`);
  if (values.from) {
    const copied = await copyCudaLibraries(userPath(values.from), dir);
    say(`copied ${copied.length} libraries: ${copied.join(', ')}`);
  } else if (values.download) {
    const script = join(ortPackageDir()!, 'script', 'install.js');
    say(`running ${script} --onnxruntime-node-install=cuda12`);
    const run = spawnSync(process.execPath, [script, '--onnxruntime-node-install=cuda12'], { stdio: 'inherit', env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'cuda12' } });
    if (run.status !== 0) throw new AppError('unavailable', `the onnxruntime-node installer failed (exit ${run.status ?? run.signal}); without network access use --from`);
  }
  const present = availableProviders(dir);
  say(`providers present: ${[...present].sort().join(', ')}`);
  if (!present.has('cuda')) {
    say(`CUDA: provider library missing (${cudaLibraryNames().join(', ')}); install with --from DIR or --download`);
    return 2;
  }
  const probe = await probeProvider('cuda');
  if (!probe.ok) {
    say(`CUDA: the provider is installed but cannot run: ${probe.reason}`);
    const missing = missingLibraries(join(dir, cudaLibraryNames()[0]));
    if (missing.length) say(`missing from the library path: ${missing.join(', ')}`);
    say('Check the NVIDIA driver, and that the CUDA runtime, cuBLAS and cuDNN 9 this provider build needs are on the library path (docs/GPU.md).');
    return 2;
  }
  say('CUDA: works (an fp16 test MatMul ran on the GPU). Dia Studio uses it for "auto" and "cuda" devices.');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => exitWithError('gpu:setup', USAGE, err, 64),
);
