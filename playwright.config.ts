// e2e tests run the UI in Debian's Chromium against the browser harness (`studio:web`), which
// Playwright starts on a test port with a throwaway data folder.
import { defineConfig } from '@playwright/test';
import { HUB_ENDPOINT, MODEL_FOLDER } from './e2e/global-setup.ts';
import { CUDA_FOLDER, CUDA_LIBRARY_DIR, E2E_DATA_DIR, PROJECT_FILE, VOICE_CLIP } from './e2e/harness-paths.ts';
import { swiftShaderEnv } from './src-main/engine/runtime/testing/swiftshader.ts';

const port = Number(process.env.DIA_STUDIO_E2E_PORT ?? 5391);
const dataDir = E2E_DATA_DIR;

export default defineConfig({
  testDir: './e2e',
  testMatch: '**/*.spec.ts',
  outputDir: './test-results/e2e',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  // Writes the --model-folder checkpoint and runs the stand-in hub (HF_ENDPOINT) for models.spec.ts.
  globalSetup: './e2e/global-setup.ts',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1280, height: 800 },
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--autoplay-policy=no-user-gesture-required'],
    },
  },
  webServer: {
    // A reused data folder starts without the earlier run's projects, takes and exports.
    command: `node e2e/reset-state.ts ${dataDir} && node src-main/server/studio-web.ts --port ${port} --data-dir ${dataDir} --voice-clip ${VOICE_CLIP} --project-file ${PROJECT_FILE} --model-folder ${MODEL_FOLDER} --cuda-folder ${CUDA_FOLDER} --cuda-library-dir ${CUDA_LIBRARY_DIR}`,
    // Hub installs go to the stand-in hub of global-setup.ts, never to huggingface.co. WebGPU runs
    // on SwiftShader, the software Vulkan driver Chromium ships (models.spec.ts loads on it).
    env: { HF_ENDPOINT: HUB_ENDPOINT, HF_TOKEN: '', ...swiftShaderEnv() },
    url: `http://127.0.0.1:${port}/`,
    reuseExistingServer: false,
    timeout: 180_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
