// npm run model:update -- [ID ...] [--add-precision fp16] [--data-dir DIR]
// Compiles installed models again with this version's compiler (what Update does in the Model
// panel): the given ids, or every model another version compiled (or lacking an added precision);
// --add-precision also builds a precision they lack (Build fp16 in the panel). Same path as the app: the checkpoints kept in the
// data folder, downloaded again only if they are gone. Every model is tried even when one fails;
// exit 1 then, with a summary, and also when a model cannot be read. Exit 2: bad command line.
import { parseArgs } from 'node:util';
import { AppError } from '../../src-shared/errors.ts';
import type { AppEvent } from '../../src-shared/api.ts';
import { StudioBackend } from '../render/studio-backend.ts';
import { ModelService } from '../app/model-service.ts';
import { PRECISIONS, type Precision } from '../engine/models/manifest.ts';
import { cliDataDir, exitWithError, UsageError } from './cli-support.ts';

const USAGE = 'usage: npm run model:update -- [ID ...] [--add-precision fp16|fp32|int4] [--data-dir DIR]  (no ID: every model compiled by another version or lacking an added precision)';

/** Prints an install's progress (a line per stage change or 5% step) and settles when it ends. */
class ProgressPrinter {
  private lastStage = '';
  private lastPercent = -5;
  private settle: { resolve: () => void; reject: (err: AppError) => void } | undefined;

  emit(event: AppEvent): void {
    if (event.type === 'model:install-progress') {
      const percent = Math.floor(event.fraction * 100);
      if (event.stage !== this.lastStage || percent >= this.lastPercent + 5) {
        process.stderr.write(`${String(percent).padStart(3)}% ${event.stage}: ${event.detail}\n`);
        this.lastPercent = percent;
        this.lastStage = event.stage;
      }
    } else if (event.type === 'model:install-done') {
      this.settle?.resolve();
    } else if (event.type === 'model:install-error') {
      this.settle?.reject(new AppError(event.error.code, event.error.message));
    }
  }

  ended(): Promise<void> {
    this.lastPercent = -5;
    this.lastStage = '';
    return new Promise((resolve, reject) => (this.settle = { resolve, reject }));
  }
}

/** What went wrong with one model, as printed in the summary. */
interface Failure {
  id: string;
  message: string;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { 'data-dir': { type: 'string' }, 'add-precision': { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const add = (values['add-precision'] ?? []) as Precision[];
  const bad = add.find((p) => !(PRECISIONS as readonly string[]).includes(p));
  if (bad) throw new UsageError(`--add-precision takes ${PRECISIONS.join(', ')}, got "${bad}"`);
  const backend = await StudioBackend.open({ dataDir: cliDataDir(values['data-dir']) });
  const printer = new ProgressPrinter();
  const service = new ModelService(backend, printer);
  try {
    const listed = await service.listModels();
    for (const id of positionals) {
      if (!listed.some((m) => m.id === id)) throw new AppError('not-found', `No model ${id} is installed (installed: ${listed.map((m) => m.id).join(', ') || 'none'})`);
    }
    const lacking = (m: (typeof listed)[number]): boolean => m.source !== 'demo' && add.some((p) => !m.precisions.includes(p));
    // Without ids: every model that needs it, and every model whose manifest cannot be read (no
    // update can repair those; they are listed with what to do).
    const unreadable: Failure[] = positionals.length ? [] : listed.filter((m) => m.error).map((m) => ({
      id: m.id,
      message: `cannot be read (${m.error!.message}); remove it (Remove… in the app's Model panel, or npm run model:remove -- ${m.id}) and install the model again`,
    }));
    const ids = positionals.length ? positionals : listed.filter((m) => !m.error && (m.outdated || lacking(m))).map((m) => m.id);
    const failed: Failure[] = [];
    // One model's failure does not stop the others: each is tried, the failures summed up at the end.
    for (const id of ids) {
      process.stderr.write(`updating ${id}\n`);
      try {
        const ended = printer.ended();
        await service.updateModel(`cli-${id}`, id, add);
        await ended;
        process.stdout.write(`${id} updated\n`);
      } catch (err) {
        const e = AppError.fromUnknown(err);
        const message = `${e.message} [${e.code}]`;
        failed.push({ id, message });
        process.stderr.write(`model:update: ${id} failed: ${message}\n`);
      }
    }
    if (!failed.length && !unreadable.length) {
      if (!ids.length) process.stdout.write('every installed model is current\n');
      return 0;
    }
    const summary = [
      ...(ids.length ? [`${ids.length - failed.length} of ${ids.length} model${ids.length === 1 ? '' : 's'} updated`] : []),
      ...failed.map((f) => `${f.id} failed: ${f.message}`),
      ...unreadable.map((f) => `${f.id} ${f.message}`),
    ];
    process.stderr.write(`model:update: ${summary.join('\n  ')}\n`);
    return 1;
  } finally {
    await backend.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => exitWithError('model:update', USAGE, err),
);
