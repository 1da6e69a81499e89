import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

// Unit tests live beside the code they test (*.test.ts). e2e/ is Playwright's.
// The Svelte plugin compiles the renderer's runes modules (*.svelte.ts) for their state tests.
export default defineConfig({
  plugins: [svelte({ configFile: false })],
  test: {
    include: ['src-main/**/*.test.ts', 'src-shared/**/*.test.ts', 'src-renderer/**/*.test.ts', 'tools/**/*.test.ts', 'bench/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
