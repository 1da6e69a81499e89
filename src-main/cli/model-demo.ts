// npm run model:demo [-- --data-dir DIR]: builds and installs the tiny random-weight demo model
// (also built on first use when no real model is installed). It sounds like noise by design.
// Exit codes: 0 built, 1 failed, 2 bad command line.
import { parseArgs } from 'node:util';
import { ModelStore } from '../engine/models/store.ts';
import { ensureDemoModel } from '../engine/runtime/demo-model.ts';
import { cliDataDir, exitWithError, UsageError } from './cli-support.ts';

const USAGE = 'usage: npm run model:demo [-- --data-dir DIR]  (builds the demo model: tiny random weights, sounds like noise)';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const dataDir = cliDataDir(values['data-dir']);
  const dir = await ensureDemoModel(new ModelStore(dataDir), (p) => process.stderr.write(`${Math.round(p.fraction * 100)}% ${p.detail}\n`), { rebuild: true });
  process.stdout.write(`demo model ready: ${dir}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => exitWithError('model:demo', USAGE, err),
);
