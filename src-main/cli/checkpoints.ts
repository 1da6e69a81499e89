// npm run checkpoints -- [--remove ID ...] [--data-dir DIR]
// Lists the checkpoints kept in the data folder (downloads, imports, unfinished downloads) with
// their size and the models compiled from them, as the Model panel's "Downloaded checkpoints"
// does; --remove deletes the named ones (refused while a download or import into one runs).
// Models compiled from a deleted checkpoint keep working. Exit 1 when one could not be deleted
// (the others still are), 2: bad command line.
import { parseArgs } from 'node:util';
import { CHECKPOINT_STATE_WORDS } from '../../src-shared/api/checkpoints.ts';
import { AppError } from '../../src-shared/errors.ts';
import { formatBytes } from '../../src-shared/format-bytes.ts';
import { describeCheckpoints, removeCheckpoint, type CheckpointEntry } from '../engine/models/checkpoint-store.ts';
import { leftoverWords } from '../engine/models/staging.ts';
import { ModelStore } from '../engine/models/store.ts';
import { cliDataDir, exitWithError, UsageError } from './cli-support.ts';

const USAGE = 'usage: npm run checkpoints -- [--remove ID [ID ...]] [--data-dir DIR]  (lists the kept checkpoints; --remove deletes the ones named)';

/** `extra`: what the Resume command needs besides (the --data-dir the listing was of). */
function line(c: CheckpointEntry, extra: string): string {
  const facts = [CHECKPOINT_STATE_WORDS[c.state], formatBytes(c.sizeBytes), c.kind?.toUpperCase(), c.origin, c.usedBy.length ? `used by ${c.usedBy.join(', ')}` : 'used by no model'];
  return `${c.id}  ${facts.filter(Boolean).join(' · ')}${c.problem && c.state === 'damaged' ? `\n  ${c.problem}` : ''}${c.resume ? `\n  Resume: ${resumeWords(c.resume, extra)}` : ''}`;
}

/** What finishes an unfinished download, as the Model panel's Resume does it. */
function resumeWords(resume: NonNullable<CheckpointEntry['resume']>, extra: string): string {
  if ('repoId' in resume) return `install ${resume.repoId}@${resume.revision} again in the Model panel${resume.precisions ? ` (precisions ${resume.precisions.join(', ')})` : ''}`;
  return `npm run model:update -- ${resume.modelId}${resume.addPrecisions.map((p) => ` --add-precision ${p}`).join('')}${extra}`;
}

/** `arg` as one word of the shell `npm run` uses (cmd.exe on Windows, where no path holds '"'). */
function shellWord(arg: string): string {
  if (/^[\w@%+=:,./-]+$/.test(arg)) return arg;
  return process.platform === 'win32' ? `"${arg}"` : `'${arg.replaceAll("'", `'\\''`)}'`;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { remove: { type: 'boolean' }, 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.remove && positionals.length) throw new UsageError(`to delete ${positionals.join(', ')}, add --remove`);
  if (values.remove && !positionals.length) throw new UsageError('name the checkpoints to delete (their ids, as npm run checkpoints lists them)');
  const dataDir = cliDataDir(values['data-dir']);
  const store = new ModelStore(dataDir);
  const listed = await describeCheckpoints(dataDir, await store.list());
  if (!values.remove) {
    // A Resume command without the --data-dir given would act on the default data folder.
    const extra = values['data-dir'] ? ` --data-dir ${shellWord(dataDir)}` : '';
    process.stdout.write(listed.length ? `${listed.map((c) => line(c, extra)).join('\n')}\n` : 'No checkpoints are kept.\n');
    return 0;
  }
  let failed = 0;
  for (const id of positionals) {
    const entry = listed.find((c) => c.id === id);
    try {
      const { leftover } = await removeCheckpoint(dataDir, id);
      const freed = entry ? ` (${formatBytes(entry.sizeBytes - entry.sharedBytes)} freed)` : '';
      process.stdout.write(`${id} deleted${freed}${entry?.usedBy.length ? `; ${entry.usedBy.join(', ')} keep working, an update of them fetches it again` : ''}\n`);
      if (leftover) process.stderr.write(`checkpoints: deleted ${id}, but ${leftoverWords(leftover)}\n`);
    } catch (err) {
      const e = AppError.fromUnknown(err);
      const known = e.code === 'not-found' ? ` (kept: ${listed.map((c) => c.id).join(', ') || 'none'})` : '';
      process.stderr.write(`checkpoints: ${id}: ${e.message}${known} [${e.code}]\n`);
      failed++;
    }
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => exitWithError('checkpoints', USAGE, err),
);
