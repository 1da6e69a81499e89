// Test support: the tiny fixture Dia with the tiny DAC, compiled (fp32) into a data folder, as the
// engine host tests load it.
import { join } from 'node:path';
import { ModelStore } from '../../models/store.ts';
import { installModel } from '../../runtime/install-model.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', '..', '..', 'fixtures', 'models');

/** Installs it as model 'tiny' in `dataDir`; returns the model's folder. */
export async function installTinyModel(dataDir: string): Promise<string> {
  const store = new ModelStore(dataDir);
  await installModel(store, { id: 'tiny', diaDir: join(FIXTURES, 'dia-tiny-a'), dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'] });
  return store.modelDir('tiny');
}
