// electron-vite build of the desktop app:
//   main    src-main/main.ts and the engine host entry (run in a utilityProcess), ESM, deps external
//   preload src-main/preload.ts as ONE self-contained CommonJS file: sandboxed preloads cannot
//           require anything but a few Electron modules
//   renderer src-renderer (Svelte)
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';
import { fileURLToPath } from 'node:url';

const at = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  main: {
    build: {
      outDir: at('./out/main'),
      rollupOptions: {
        input: {
          main: at('./src-main/main.ts'),
          'engine-process': at('./src-main/engine/host/engine-process.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: at('./out/preload'),
      externalizeDeps: false,
      isolatedEntries: true,
      rollupOptions: {
        input: { preload: at('./src-main/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: at('./src-renderer'),
    plugins: [svelte({ configFile: false })],
    build: {
      outDir: at('./out/renderer'),
      target: 'es2022',
      rollupOptions: { input: { index: at('./src-renderer/index.html') } },
    },
  },
});
