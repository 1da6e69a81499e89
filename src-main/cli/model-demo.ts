// npm run model:demo [-- --data-dir DIR]: builds and installs the tiny random-weight demo model
// (also built on first use when no real model is installed). It sounds like noise by design.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { resolveDataDir } from '../engine/models/paths.ts';
import { ensureDemoModel } from '../engine/runtime/demo-model.ts';
import { AppError } from '../../src-shared/errors.ts';

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' } } });
const dataDir = values['data-dir'] ? resolve(values['data-dir']) : resolveDataDir();
ensureDemoModel(dataDir, (p) => process.stderr.write(`${Math.round(p.fraction * 100)}% ${p.detail}\n`)).then(
  (dir) => process.stdout.write(`demo model ready: ${dir}\n`),
  (err: unknown) => {
    const e = AppError.fromUnknown(err);
    process.stderr.write(`model:demo: ${e.message} [${e.code}]\n`);
    process.exit(1);
  },
);
