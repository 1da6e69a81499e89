// Test support: ONNX Runtime's WebGPU provider on machines without a GPU. Its Dawn backend runs on
// Vulkan, and Debian's Chromium ships SwiftShader, a Vulkan driver that runs on the CPU: slow, but
// the same WebGPU kernels, the same shader compiler path and the same device-resident tensors as
// on a GPU. SwiftShader has no shader-f16, so only fp32 graphs run there. CI installs Chromium
// (and the Vulkan loader), so these tests run in CI; a CI machine without them fails them rather
// than skipping.
import { probeProvider, type ProbeResult } from '../provider-probe.ts';
import { swiftShaderEnv } from './swiftshader.ts';

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
