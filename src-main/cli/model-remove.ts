// npm run model:remove -- ID [ID ...] [--data-dir DIR]
// Deletes installed models (what Remove… does in the Model panel), broken ones too; refused while
// an install or update of one runs. The checkpoints they were compiled from stay in the data
// folder. Exit 1 when one could not be removed (the others still are), 2: bad command line.
import { parseArgs } from 'node:util';
import { AppError } from '../../src-shared/errors.ts';
import { resolveDataDir } from '../engine/models/paths.ts';
import { ModelStore } from '../engine/models/store.ts';
import { exitWithError, UsageError, userPath } from './cli-support.ts';

const USAGE = 'usage: npm run model:remove -- ID [ID ...] [--data-dir DIR]  (close Dia Studio first if it has one of them loaded)';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!positionals.length) throw new UsageError('name the models to remove (their ids, as the Model panel and model:update list them)');
  const store = new ModelStore(values['data-dir'] ? userPath(values['data-dir']) : resolveDataDir());
  let failed = 0;
  for (const id of positionals) {
    try {
      const { leftover } = await store.remove(id);
      process.stdout.write(`${id} removed\n`);
      if (leftover) process.stderr.write(`model:remove: some files of ${id} could not be deleted yet (${leftover.message}); delete ${leftover.dir}, or Dia Studio deletes it when it next starts\n`);
    } catch (err) {
      const e = AppError.fromUnknown(err);
      // An unknown id is most likely a typo: name the ids there are (when they can be listed).
      const installed = e.code === 'not-found' ? await store.list().then((ms) => ms.map((m) => m.id).join(', ') || 'none', () => null) : null;
      const message = installed === null ? e.message : `No model ${id} is installed (installed: ${installed})`;
      process.stderr.write(`model:remove: ${id}: ${message} [${e.code}]\n`);
      failed++;
    }
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => exitWithError('model:remove', USAGE, err),
);
