// The environment an engine host process starts with (Electron's utilityProcess or a forked Node
// process): the parent's, less what would change how its Node/V8 starts, with the library path
// the host must load ONNX Runtime and the CUDA libraries through (ort-user-runtime.ts hostLibraryPath).

/** Environment variables that would change how the child's Node/V8 starts; never inherited. */
const STRIPPED_ENV = ['NODE_OPTIONS', 'ELECTRON_RUN_AS_NODE', 'NODE_INSPECT', 'ELECTRON_ENABLE_LOGGING'];

export function engineHostEnv(libraryPath: string | undefined, parent: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(parent)) if (value !== undefined && !STRIPPED_ENV.includes(key)) env[key] = value;
  if (libraryPath) env.LD_LIBRARY_PATH = libraryPath;
  return env;
}
