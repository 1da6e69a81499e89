// Before the e2e tests (the harness is already up; it reads these only when a test asks):
// - a Dia checkpoint folder for "Import folder…" (--model-folder): a tiny fixture Dia with the tiny
//   DAC in a sub-folder, which is how the import finds its codec;
// - stand-in CUDA provider libraries for "Add CUDA libraries…" (--cuda-folder), copied to a test
//   folder (--cuda-library-dir), never into ONNX Runtime's own;
// - the demo model, so the Model panel lists it even when no render ran before;
// - a stand-in Hugging Face hub (HF_ENDPOINT) serving one slow repo, so an install can be watched
//   and cancelled, and answering "not found" for every other repo.
// Leftovers of an earlier run are removed so the import compiles again and the download starts at 0.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkpointIdFor, checkpointsRoot, modelsRoot } from '../src-main/engine/models/paths.ts';
import { FakeHub } from '../src-main/engine/models/test-support/fake-hub.ts';
import { ModelStore } from '../src-main/engine/models/store.ts';
import { ensureDemoModel } from '../src-main/engine/runtime/demo-model.ts';
import { bindingDir, cudaLibraryNames, providerLibraryName } from '../src-main/engine/runtime/provider-libraries.ts';
import { CUDA_FOLDER, CUDA_LIBRARY_DIR, E2E_DATA_DIR } from './harness-paths.ts';

/** The folder the harness imports; its name becomes the model id. */
export const IMPORT_MODEL_ID = 'dia-tiny-e2e';
export const MODEL_FOLDER = `${E2E_DATA_DIR}/import-source/${IMPORT_MODEL_ID}`;
/** Next to the harness port, so two runs with different DIA_STUDIO_E2E_PORT keep apart. */
export const HUB_PORT = Number(process.env.DIA_STUDIO_E2E_HUB_PORT ?? Number(process.env.DIA_STUDIO_E2E_PORT ?? 5391) + 1000);
export const HUB_ENDPOINT = `http://127.0.0.1:${HUB_PORT}`;
export const SLOW_REPO = 'e2e-hub/dia-tiny-slow';
export const MISSING_REPO = 'e2e-hub/no-such-model';

const FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures', 'models');

function writeModelFolder(): void {
  rmSync(MODEL_FOLDER, { recursive: true, force: true });
  mkdirSync(MODEL_FOLDER, { recursive: true });
  for (const file of ['config.json', 'model.safetensors']) cpSync(path.join(FIXTURES, 'dia-tiny-a', file), path.join(MODEL_FOLDER, file));
  cpSync(path.join(FIXTURES, 'dac-tiny'), path.join(MODEL_FOLDER, 'dac'), { recursive: true });
}

/**
 * Stand-ins for ONNX Runtime's CUDA provider libraries in a GPU release's lib folder; none installed
 * yet. On Linux the CUDA one is a real library needing one the loader cannot find (ONNX Runtime's
 * binding, without the libonnxruntime.so.1 beside it), as a provider without cuBLAS or cuDNN is.
 */
function writeCudaFolder(): void {
  rmSync(CUDA_LIBRARY_DIR, { recursive: true, force: true });
  rmSync(CUDA_FOLDER, { recursive: true, force: true });
  mkdirSync(path.join(CUDA_FOLDER, 'lib'), { recursive: true });
  for (const name of cudaLibraryNames()) writeFileSync(path.join(CUDA_FOLDER, 'lib', name), `stand-in for ${name}`);
  const binding = bindingDir();
  if (process.platform === 'linux' && binding) cpSync(path.join(binding, 'onnxruntime_binding.node'), path.join(CUDA_FOLDER, 'lib', providerLibraryName('cuda')));
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  writeModelFolder();
  writeCudaFolder();
  rmSync(path.join(modelsRoot(E2E_DATA_DIR), IMPORT_MODEL_ID), { recursive: true, force: true });
  // The import's checkpoint copies (checkpoints/<folder name>, and its codec's) stay: importing the
  // same folder again refreshes them in place.
  rmSync(path.join(checkpointsRoot(E2E_DATA_DIR), checkpointIdFor(SLOW_REPO, 'main')), { recursive: true, force: true });
  if (!existsSync(path.join(modelsRoot(E2E_DATA_DIR), 'demo-tiny', 'manifest.json'))) await ensureDemoModel(new ModelStore(E2E_DATA_DIR));

  const hub = new FakeHub();
  const dia = path.join(FIXTURES, 'dia-tiny-a');
  hub.host(SLOW_REPO, new Map(['config.json', 'model.safetensors'].map((f) => [f, readFileSync(path.join(dia, f))])));
  // About 80 KB/s: the 1.3 MB weights take ~16 s, long enough to see bytes and an ETA, then cancel.
  hub.faults = { throttle: { chunkBytes: 8192, delayMs: 100 } };
  await hub.start(HUB_PORT);
  return () => hub.stop();
}
