/// <reference lib="dom" />
// The Model panel through the browser harness: the loaded demo model with its device and
// provider; importing a checkpoint folder (--model-folder) with live progress until the new model
// is listed; updating it once its manifest names another compiler version, then using it; adding
// the CUDA provider libraries from a folder (stand-ins, copied to a test folder); a hub
// install (the stand-in hub of global-setup.ts) with bytes and ETA, cancelled;
// form checks and a hub install of a missing repo failing with a clear message; removing the
// imported model while it is loaded (unloaded first, after a confirmation) and a broken install.
import { expect, test, type Locator, type Page } from '@playwright/test';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { modelsRoot } from '../src-main/engine/models/paths.ts';
import { COMPILER_VERSION } from '../src-main/engine/runtime/install-model.ts';
import { bindingDir, cudaLibraryNames } from '../src-main/engine/runtime/provider-libraries.ts';
import { SWIFTSHADER_ICD } from '../src-main/engine/runtime/testing/swiftshader.ts';
import { HUB_ENDPOINT, IMPORT_MODEL_ID, MISSING_REPO, SLOW_REPO } from './global-setup.ts';
import { CUDA_FOLDER, CUDA_LIBRARY_DIR, E2E_DATA_DIR } from './harness-paths.ts';
import { openModelPanel } from './studio-helpers.ts';

const ARTIFACTS = 'e2e/artifacts';

test.describe.configure({ mode: 'serial' });
test.beforeAll(() => mkdirSync(ARTIFACTS, { recursive: true }));

/** Loads the demo model from the panel on the given device. */
async function useDemo(panel: Locator, device: string): Promise<void> {
  await panel.getByTestId('model-device').selectOption(device);
  const demo = panel.locator('[data-testid="model-item"][data-model-id="demo-tiny"]');
  const use = demo.getByTestId('model-use');
  await use.click();
  // "Loading…" while the call runs, "Reload" once the demo is the loaded model.
  await expect(use).toHaveText('Reload', { timeout: 60_000 });
  await expect(demo.getByTestId('model-select-error')).toHaveCount(0);
  await expect(demo.getByTestId('model-active')).toBeVisible();
}

/** Keeps every text the install rows showed, so a test can tell the progress moved while it ran. */
async function recordInstallTexts(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen = new Set<string>();
    (window as unknown as { __installTexts: Set<string> }).__installTexts = seen;
    const grab = (): void => {
      document
        .querySelectorAll('[data-testid="model-install-stage"], [data-testid="model-install-percent"], [data-testid="model-install-bytes"]')
        .forEach((el) => seen.add(el.textContent ?? ''));
    };
    new MutationObserver(grab).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

async function installTexts(page: Page): Promise<string[]> {
  return page.evaluate(() => [...(window as unknown as { __installTexts: Set<string> }).__installTexts]);
}

test('shows the loaded demo model with its device and execution provider', async ({ page }) => {
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  const panel = await openModelPanel(page);
  await useDemo(panel, 'cpu');

  const loaded = panel.getByTestId('model-loaded');
  await expect(loaded.getByTestId('model-loaded-name')).toHaveText(/Demo/);
  await expect(loaded).toContainText('demo');
  await expect(loaded).toContainText('fp32');
  await expect(loaded.getByTestId('model-loaded-device')).toHaveText(/CPU/);
  await expect(loaded.getByTestId('model-loaded-provider')).toHaveText('cpu');
  await expect(loaded.getByTestId('model-loaded-decoding')).toHaveText('One step per run, sampling in the app');
  await expect(loaded.getByTestId('model-engine-message')).toContainText('sounds like noise');
  await expect(page.getByTestId('engine-model')).toContainText('demo');

  const demo = panel.locator('[data-testid="model-item"][data-model-id="demo-tiny"]');
  await expect(demo).toContainText('Built-in demo');
  await expect(demo).toContainText(/\d+(\.\d)? (KB|MB)/);
  await expect(demo.getByTestId('model-use')).toHaveText('Reload');

  // A modal: the page behind is inert, Esc closes it and focus goes back to the button.
  await page.screenshot({ path: `${ARTIFACTS}/models-panel.png` });
  await page.keyboard.press('Escape');
  await expect(panel).toBeHidden();
  const opener = page.getByRole('button', { name: 'Model…' });
  await expect(opener).toBeFocused();

  // Keyboard only: Enter opens it, focus starts inside and its ring is drawn.
  await page.keyboard.press('Enter');
  await expect(panel).toBeVisible();
  await page.keyboard.press('Tab');
  const focused = page.locator(':focus');
  expect(await focused.evaluate((el) => el.closest('dialog')?.dataset.testid)).toBe('model-panel');
  expect(await focused.evaluate((el) => getComputedStyle(el).outlineStyle)).not.toBe('none');
  await page.keyboard.press('Escape');
  await expect(panel).toBeHidden();
  await expect(opener).toBeFocused();
  expect(problems).toEqual([]);
});

test('imports a model folder, shows its progress and lists the new model', async ({ page }) => {
  test.setTimeout(120_000);
  const panel = await openModelPanel(page);
  await recordInstallTexts(page);
  await panel.getByRole('button', { name: 'Import folder…' }).click();

  const install = panel.getByTestId('model-install-item').first();
  await expect(install).toContainText('Model folder');
  await expect(install).not.toHaveAttribute('data-state', 'running', { timeout: 90_000 });
  await expect(install.getByTestId('model-install-error')).toHaveCount(0);
  await expect(install).toHaveAttribute('data-state', 'done');
  await expect(install.getByTestId('model-install-stage')).toHaveText('Installed');
  await expect(install.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '100');

  // The progress was shown while it ran: the stages and a percentage between the ends.
  const texts = await installTexts(page);
  expect(texts).toContain('Checking files');
  expect(texts).toContain('Compiling the model');
  expect(texts.some((t) => /^([1-9]|[1-9]\d)%$/.test(t))).toBe(true);

  const added = panel.locator(`[data-testid="model-item"][data-model-id="${IMPORT_MODEL_ID}"]`);
  await expect(added).toBeVisible();
  await expect(added).toContainText('Imported folder');
  await expect(added).toContainText('fp32, int4');
  await expect(added).toContainText(/\d+(\.\d)? (KB|MB)/);
  await expect(added.getByTestId('model-item-error')).toHaveCount(0);
  // Installing does not load it: the demo stays in use.
  await expect(added.getByTestId('model-active')).toHaveCount(0);
  await expect(panel.getByTestId('model-loaded-name')).toHaveText(/Demo/);
});

test('updates a model another version compiled, which cannot be used until then', async ({ page }) => {
  test.setTimeout(120_000);
  // What an app upgrade leaves: the imported model's manifest names an older compiler.
  const manifestFile = path.join(modelsRoot(E2E_DATA_DIR), IMPORT_MODEL_ID, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  writeFileSync(manifestFile, JSON.stringify({ ...manifest, compilerVersion: '1' }));

  const panel = await openModelPanel(page);
  const row = panel.locator(`[data-testid="model-item"][data-model-id="${IMPORT_MODEL_ID}"]`);
  await expect(row.getByTestId('model-outdated')).toHaveText('needs update');
  await expect(row.getByTestId('model-outdated-note')).toContainText('Compiled by another version of Dia Studio');
  await expect(row.getByTestId('model-use')).toBeDisabled();
  await page.screenshot({ path: `${ARTIFACTS}/models-outdated.png` });

  await recordInstallTexts(page);
  await row.getByTestId('model-update').click();
  const update = panel.getByTestId('model-install-item').filter({ hasText: IMPORT_MODEL_ID });
  await expect(update).toHaveAttribute('data-state', 'done', { timeout: 90_000 });
  await expect(update.getByTestId('model-install-error')).toHaveCount(0);
  expect(await installTexts(page)).toContain('Compiling the model');
  await expect(page.getByTestId('notices')).toContainText(`Model ${IMPORT_MODEL_ID} is updated (fp32, int4).`);
  expect(JSON.parse(readFileSync(manifestFile, 'utf8')).compilerVersion).toBe(COMPILER_VERSION);

  await expect(row.getByTestId('model-outdated')).toHaveCount(0);
  await expect(row.getByTestId('model-update')).toHaveCount(0);
  await row.getByTestId('model-use').click();
  await expect(row.getByTestId('model-active')).toBeVisible({ timeout: 60_000 });
  await expect(panel.getByTestId('model-loaded-name')).toHaveText(IMPORT_MODEL_ID);
});

test('adds the CUDA provider libraries from a folder, then builds a model\'s fp16 graphs', async ({ page }) => {
  test.setTimeout(120_000);
  const panel = await openModelPanel(page);
  const gpu = panel.getByTestId('gpu-setup');
  await expect(gpu).toHaveAttribute('data-installed', 'false');
  await expect(gpu.getByTestId('gpu-setup-state')).toContainText('not set up');
  // No GPU provider yet: installs build the CPU's 4-bit graphs and the fp32 reference.
  await expect(panel.getByTestId('model-precision-fp16')).not.toBeChecked();
  await expect(gpu.getByTestId('gpu-setup-state')).toContainText(/onnxruntime-linux-x64-gpu-\d+\.\d+\.\d+/);
  await expect(gpu.getByTestId('gpu-setup-folder')).toHaveText(path.resolve(CUDA_LIBRARY_DIR));

  await gpu.screenshot({ path: `${ARTIFACTS}/models-gpu-setup.png` });
  await gpu.getByRole('button', { name: 'Add CUDA libraries…' }).click();
  await expect(gpu).toHaveAttribute('data-installed', 'true');
  await expect(gpu.getByTestId('gpu-setup-state')).toContainText('The CUDA provider libraries are installed');
  await expect(gpu.getByTestId('gpu-setup-error')).toHaveCount(0);
  await expect(page.getByTestId('notices')).toContainText('CUDA libraries added');
  for (const name of cudaLibraryNames()) expect(readFileSync(path.join(CUDA_LIBRARY_DIR, name)).equals(readFileSync(path.join(CUDA_FOLDER, 'lib', name)))).toBe(true);
  if (process.platform === 'linux') {
    // The provider stand-in needs a library the loader cannot find: the panel names it and asks for
    // the folder holding it.
    await expect(gpu.getByTestId('gpu-setup-state')).toContainText('libraries missing');
    await expect(gpu.getByTestId('gpu-setup-missing')).toHaveText('libonnxruntime.so.1');
    await expect(gpu.getByTestId('gpu-setup-state')).toContainText('Add the folder that holds them');
    await expect(page.getByTestId('notices')).toContainText('the GPU still needs libonnxruntime.so.1');
    await expect(gpu.getByTestId('gpu-setup-library-folders')).toHaveCount(0);
    await gpu.screenshot({ path: `${ARTIFACTS}/models-gpu-setup-missing.png` });

    // Once the picked folder holds it (a sub-folder, as in a Python environment), adding that folder
    // again records where it is: the engine host started next gets it on its library path.
    const deps = path.join(CUDA_FOLDER, 'site-packages', 'nvidia', 'lib');
    mkdirSync(deps, { recursive: true });
    copyFileSync(path.join(bindingDir()!, 'libonnxruntime.so.1'), path.join(deps, 'libonnxruntime.so.1'));
    await gpu.getByRole('button', { name: 'Add the folder holding them…' }).click();
    await expect(gpu.getByTestId('gpu-setup-missing')).toHaveCount(0);
    await expect(gpu.getByTestId('gpu-setup-library-folders')).toContainText(path.resolve(deps));
    await expect(gpu.getByTestId('gpu-setup-state')).toContainText('set up');
    await gpu.screenshot({ path: `${ARTIFACTS}/models-gpu-setup-folders.png` });
  }
  await expect(gpu.getByRole('button', { name: 'Replace CUDA libraries…' })).toBeEnabled();
  // With CUDA set up, installs build the fp16 graphs too (what the GPU runs).
  await expect(panel.getByTestId('model-precision-fp16')).toBeChecked();
  await expect(panel.getByTestId('model-precision-int4')).toBeChecked();

  // A model installed without them is offered its fp16 graphs, built from its kept checkpoint.
  const row = panel.locator(`[data-testid="model-item"][data-model-id="${IMPORT_MODEL_ID}"]`);
  await expect(row.getByTestId('model-lacks-fp16')).toContainText('No fp16 graphs');
  await row.screenshot({ path: `${ARTIFACTS}/models-build-fp16.png` });
  await row.getByTestId('model-build-fp16').click();
  const build = panel.getByTestId('model-install-item').filter({ hasText: IMPORT_MODEL_ID }).first();
  await expect(build).toHaveAttribute('data-state', 'done', { timeout: 90_000 });
  await expect(row).toContainText('fp32, int4, fp16');
  await expect(row.getByTestId('model-build-fp16')).toHaveCount(0);
  await expect(page.getByTestId('notices')).toContainText(`Model ${IMPORT_MODEL_ID} is updated (fp32, int4, fp16)`);
});

test('installs from the hub with bytes and ETA, and cancels', async ({ page }) => {
  const panel = await openModelPanel(page);
  await panel.getByLabel('Repo id').fill(SLOW_REPO);
  await panel.getByTestId('model-precision-fp32').uncheck();
  await panel.getByRole('button', { name: 'Install', exact: true }).click();

  const install = panel.getByTestId('model-install-item').filter({ hasText: SLOW_REPO });
  await expect(install.getByTestId('model-install-stage')).toHaveText('Downloading');
  await expect(install.getByTestId('model-install-bytes')).toHaveText(/^[\d.]+ (B|KB|MB) of 1\.3 MB · about \d+ (s|min) left$/, { timeout: 20_000 });
  await expect(install).toContainText(`Downloading ${SLOW_REPO}`);
  await expect(install.getByTestId('model-install-percent')).not.toHaveText('0%', { timeout: 20_000 });
  await page.screenshot({ path: `${ARTIFACTS}/models-install-progress.png` });

  await install.getByRole('button', { name: `Cancel the install of ${SLOW_REPO}` }).click();
  await expect(install).toHaveAttribute('data-state', 'cancelled');
  await expect(install.getByTestId('model-install-stage')).toHaveText('Cancelled');
  await expect(install.getByTestId('model-install-error')).toHaveCount(0);
  await expect(panel.locator(`[data-testid="model-item"][data-model-id="${SLOW_REPO.replace('/', '--')}"]`)).toHaveCount(0);
});

test('checks the install form and shows why a hub install failed', async ({ page }) => {
  const panel = await openModelPanel(page);
  const repo = panel.getByLabel('Repo id');
  await expect(repo).toHaveValue('nari-labs/Dia-1.6B-0626');
  const install = panel.getByRole('button', { name: 'Install', exact: true });

  await repo.fill('');
  await install.click();
  await expect(panel.getByTestId('model-repo-error')).toHaveText('Enter a Hugging Face repo id, e.g. nari-labs/Dia-1.6B-0626');
  await expect(repo).toHaveAttribute('aria-invalid', 'true');
  await expect(repo).toBeFocused();
  await repo.fill('just-a-name');
  await expect(panel.getByTestId('model-repo-error')).toHaveText('The repo id must be a Hugging Face repo id "owner/name"');
  for (const p of ['fp16', 'int4', 'fp32']) await panel.getByTestId(`model-precision-${p}`).uncheck();
  await repo.fill(MISSING_REPO);
  await expect(panel.getByTestId('model-repo-error')).toHaveCount(0);
  await expect(panel.getByTestId('model-precision-error')).toHaveText('Choose at least one precision to build');
  await expect(panel.getByTestId('model-install-item')).toHaveCount(0);

  await panel.getByTestId('model-precision-int4').check();
  await install.click();
  const failed = panel.getByTestId('model-install-item').filter({ hasText: MISSING_REPO });
  await expect(failed).toHaveAttribute('data-state', 'failed');
  await expect(failed.getByTestId('model-install-stage')).toHaveText('Failed');
  await expect(failed.getByTestId('model-install-error')).toHaveText(
    `Model repository ${MISSING_REPO} not found on ${HUB_ENDPOINT} (check the name; private repos need HF_TOKEN)`,
  );
  await expect(page.getByTestId('notices')).toContainText(`Installing ${MISSING_REPO} failed: Model repository ${MISSING_REPO} not found`);

  await page.screenshot({ path: `${ARTIFACTS}/models-install-error.png` });
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await page.screenshot({ path: `${ARTIFACTS}/models-install-error-dark.png` });

  await failed.getByRole('button', { name: `Dismiss the install of ${MISSING_REPO}` }).click();
  await expect(failed).toHaveCount(0);
});

test('removes a model after a confirmation naming it and its size, the loaded one too (unloaded first)', async ({ page }) => {
  const panel = await openModelPanel(page);
  const row = panel.locator(`[data-testid="model-item"][data-model-id="${IMPORT_MODEL_ID}"]`);
  // The update test above left the imported model loaded: with nothing rendering it can be removed.
  await expect(row.getByTestId('model-active')).toBeVisible();
  await expect(row.getByTestId('model-remove')).toBeEnabled();
  await expect(panel.locator('[data-testid="model-item"][data-model-id="demo-tiny"]').getByTestId('model-remove')).toHaveCount(0);

  const size = (await row.textContent())!.match(/\d+(\.\d)? (KB|MB)/)![0];
  const confirm = page.getByRole('dialog', { name: `Remove ${IMPORT_MODEL_ID}?` });
  await row.getByRole('button', { name: `Remove ${IMPORT_MODEL_ID}…` }).click();
  await expect(confirm).toBeVisible();
  await expect(confirm.getByTestId('model-remove-question')).toContainText(`This deletes ${IMPORT_MODEL_ID} (${size} on disk)`);
  await expect(confirm.getByTestId('model-remove-loaded')).toHaveText('It is the loaded model: it is unloaded first, and the next render loads another one.');
  await page.screenshot({ path: `${ARTIFACTS}/models-remove-confirm.png` });
  // Keep (and Esc) leave it installed, and the model panel open.
  await confirm.getByRole('button', { name: 'Keep' }).click();
  await expect(confirm).toBeHidden();
  await expect(row).toBeVisible();
  await row.getByRole('button', { name: `Remove ${IMPORT_MODEL_ID}…` }).click();
  await page.keyboard.press('Escape');
  await expect(confirm).toBeHidden();
  await expect(panel).toBeVisible();

  await row.getByRole('button', { name: `Remove ${IMPORT_MODEL_ID}…` }).click();
  await confirm.getByRole('button', { name: 'Remove' }).click();
  await expect(confirm).toBeHidden();
  await expect(row).toHaveCount(0);
  await expect(page.getByTestId('notices')).toContainText(`Removed ${IMPORT_MODEL_ID} (${size} freed). No model is loaded now:`);
  expect(existsSync(path.join(modelsRoot(E2E_DATA_DIR), IMPORT_MODEL_ID))).toBe(false);
  // The panel says no model is loaded, why, and what the next render loads.
  await expect(panel.getByTestId('model-loaded-name')).toHaveCount(0);
  await expect(panel.getByTestId('model-loaded')).toContainText('No model loaded');
  await expect(panel.getByTestId('model-engine-message')).toContainText(`No model loaded: ${IMPORT_MODEL_ID} was removed. The next render loads`);
  await useDemo(panel, 'cpu');

  // A broken install (a folder without a manifest) is listed as unusable and can be removed too.
  const broken = path.join(modelsRoot(E2E_DATA_DIR), 'broken-e2e');
  mkdirSync(broken, { recursive: true });
  writeFileSync(path.join(broken, 'encoder.onnx'), Buffer.alloc(3000, 1));
  const reopened = await openModelPanel(page);
  await expect(reopened.locator(`[data-testid="model-item"][data-model-id="${IMPORT_MODEL_ID}"]`)).toHaveCount(0);
  const brokenRow = reopened.locator('[data-testid="model-item"][data-model-id="broken-e2e"]');
  await expect(brokenRow.getByTestId('model-item-error')).toContainText('Unusable');
  await brokenRow.getByRole('button', { name: 'Remove broken-e2e…' }).click();
  const confirmBroken = page.getByRole('dialog', { name: 'Remove broken-e2e?' });
  await expect(confirmBroken).toContainText('(2.9 KB on disk)');
  await confirmBroken.getByRole('button', { name: 'Remove' }).click();
  await expect(brokenRow).toHaveCount(0);
  expect(existsSync(broken)).toBe(false);
});

test('loads the demo model on WebGPU, with its KV cache kept on the GPU', async ({ page }) => {
  // SwiftShader (the harness's Vulkan driver, playwright.config.ts) stands in for a GPU; CI has it.
  test.skip(!process.env.CI && !existsSync(SWIFTSHADER_ICD) && !process.env.VK_ICD_FILENAMES, 'no Vulkan driver for WebGPU here');
  const panel = await openModelPanel(page);
  await useDemo(panel, 'webgpu');
  const loaded = panel.getByTestId('model-loaded');
  await expect(loaded.getByTestId('model-loaded-device')).toHaveText(/GPU/);
  await expect(loaded.getByTestId('model-loaded-provider')).toHaveText('webgpu');
  await expect(loaded.getByTestId('model-loaded-decoding')).toHaveText('One step per run, sampling in the app, KV cache kept on the GPU');
});

// Later spec files render with the demo model on the device chosen by default: put that back
// even when a test above failed half-way.
test.afterAll(async ({ browser }) => {
  const page = await browser.newPage();
  try {
    await useDemo(await openModelPanel(page), 'auto');
  } finally {
    await page.close();
  }
});
