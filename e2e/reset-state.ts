// Run before the harness starts (playwright.config.ts webServer): the e2e specs share one data
// folder, so a second run on the same folder would meet the first run's projects, takes, exports
// and opened project file, and the CUDA library folders its GPU setup added (read by the engine
// host when it starts). Those go; installed models and imported checkpoints stay (slow to
// rebuild, and the specs expect them).
import { rmSync } from 'node:fs';
import path from 'node:path';

const dataDir = process.argv[2];
if (!dataDir) {
  process.stderr.write('usage: node e2e/reset-state.ts DATA_DIR\n');
  process.exit(1);
}
for (const entry of ['projects', 'cache', 'exports', 'opened.diaproj', 'onnxruntime']) rmSync(path.join(dataDir, entry), { recursive: true, force: true });
