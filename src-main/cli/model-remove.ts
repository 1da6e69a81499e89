// npm run model:remove -- ID [ID ...] [--with-checkpoints] [--data-dir DIR]
// Deletes installed models (what Remove… does in the Model panel), broken ones too; refused while
// an install or update of one runs, or while a running Dia Studio has it loaded. The checkpoints
// they were compiled from stay in the data folder, unless --with-checkpoints: then those no other
// model uses go too (as the dialog's checkbox does). Exit 1 when one could not be removed (the
// others still are), 2: bad command line.
import { parseArgs } from 'node:util';
import { AppError } from '../../src-shared/errors.ts';
import { removeModelWithCheckpoints } from '../engine/models/checkpoint-store.ts';
import { leftoverWords } from '../engine/models/staging.ts';
import { ModelStore } from '../engine/models/store.ts';
import { cliDataDir, exitWithError, UsageError } from './cli-support.ts';

const USAGE = 'usage: npm run model:remove -- ID [ID ...] [--with-checkpoints] [--data-dir DIR]  (--with-checkpoints: also the checkpoints no other model uses; a model a running Dia Studio has loaded is refused: remove it there, or close it first)';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'with-checkpoints': { type: 'boolean' }, 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!positionals.length) throw new UsageError('name the models to remove (their ids, as the Model panel and model:update list them)');
  const dataDir = cliDataDir(values['data-dir']);
  const store = new ModelStore(dataDir);
  let failed = 0;
  for (const id of positionals) {
    try {
      const { removed, checkpoints } = values['with-checkpoints']
        ? await removeModelWithCheckpoints(store, id, () => store.remove(id))
        : { removed: await store.remove(id), checkpoints: [] };
      process.stdout.write(`${id} removed\n`);
      if (removed.leftover) process.stderr.write(`model:remove: removed ${id}, but ${leftoverWords(removed.leftover)}\n`);
      for (const c of checkpoints) {
        if (c.error) process.stderr.write(`model:remove: kept ${c.id === null ? 'the checkpoints' : `checkpoint ${c.id}`} of ${id}: ${c.error.message} [${c.error.code}]\n`);
        else process.stdout.write(`checkpoint ${c.id} deleted\n`);
        if (c.leftover) process.stderr.write(`model:remove: deleted checkpoint ${c.id}, but ${leftoverWords(c.leftover)}\n`);
      }
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
