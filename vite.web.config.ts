// Build of the Svelte UI for the browser harness (`npm run build:web`, or on demand by
// `npm run studio:web`): the same renderer the Electron app loads, as a plain web page.
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('./src-renderer', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  plugins: [svelte({ configFile: false })],
  build: {
    outDir: fileURLToPath(new URL('./dist-web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // The UI is loaded from disk or localhost: one chunk per entry keeps startup simple.
    chunkSizeWarningLimit: 2048,
  },
});
