// Test support: ONNX Runtime's WebGPU provider on machines without a GPU. Its Dawn backend runs on
// Vulkan, and Debian's Chromium ships SwiftShader, a Vulkan driver that runs on the CPU: slow, but
// the same WebGPU kernels, the same shader compiler path and the same device-resident tensors as
// on a GPU. SwiftShader has no shader-f16, so only fp32 graphs run there; the fp16 graphs run on
// Mesa's lavapipe (tools/install-lavapipe.sh). CI installs both (and the Vulkan loader), so these
// tests run in CI; a CI machine without them fails them rather than skipping.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeProvider, type ProbeResult } from '../provider-probe.ts';
import { swiftShaderEnv } from './swiftshader.ts';

/** Where tools/install-lavapipe.sh leaves lavapipe's ICD file (DIA_STUDIO_F16_VK_ICD overrides it). */
export const LAVAPIPE_ICD = join(import.meta.dirname, '..', '..', '..', '..', '.cache', 'lavapipe', 'lvp_icd.json');

/**
 * Points the Vulkan loader at SwiftShader (unless VK_ICD_FILENAMES is set already) and probes the
 * WebGPU provider with an fp32 MatMul. Call before the process opens its first WebGPU session:
 * Dawn reads the environment once.
 */
export async function softwareWebGpu(): Promise<ProbeResult> {
  Object.assign(process.env, swiftShaderEnv());
  const probe = await probeProvider('webgpu', 'float32');
  if (!probe.ok && process.env.CI) throw new Error(`WebGPU tests need SwiftShader (Debian's chromium) and the Vulkan loader (libvulkan1): ${probe.reason}`);
  return probe;
}

/**
 * Points the Vulkan loader at lavapipe, whose WebGPU adapter has shader-f16, and probes the WebGPU
 * provider with an fp16 MatMul. Call before the process opens its first WebGPU session.
 */
export async function halfPrecisionWebGpu(): Promise<ProbeResult> {
  const icd = process.env.DIA_STUDIO_F16_VK_ICD ?? LAVAPIPE_ICD;
  let probe: ProbeResult = { ok: false, reason: `${icd} is missing (bash tools/install-lavapipe.sh)` };
  if (existsSync(icd)) {
    Object.assign(process.env, { VK_ICD_FILENAMES: icd, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? tmpdir() });
    probe = await probeProvider('webgpu', 'float16');
  }
  if (!probe.ok && process.env.CI) throw new Error(`The fp16 WebGPU tests need lavapipe from Mesa 25 (tools/install-lavapipe.sh): ${probe.reason}`);
  return probe;
}
