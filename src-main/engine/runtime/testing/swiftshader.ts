// Where Debian's Chromium keeps SwiftShader's Vulkan driver, and the environment that points the
// Vulkan loader (and so ONNX Runtime's WebGPU provider) at it. No onnxruntime import, so the
// Playwright config can use it for the harness it starts.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** VK_ICD_FILENAMES for SwiftShader where it is installed and no driver was chosen already. */
export function swiftShaderEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (env.VK_ICD_FILENAMES || !existsSync(SWIFTSHADER_ICD)) return {};
  // The Vulkan loader complains on stderr without XDG_RUNTIME_DIR.
  return { VK_ICD_FILENAMES: SWIFTSHADER_ICD, XDG_RUNTIME_DIR: env.XDG_RUNTIME_DIR ?? tmpdir() };
}
