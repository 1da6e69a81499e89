// Writes a built graph to disk: the external data (streamed to <model>.data as the graph was built)
// is flushed and closed first, then the .onnx is written under a temp name and renamed into place,
// so a killed compile never leaves a model file that points at missing data.
import { rename, rm, writeFile } from 'node:fs/promises';
import type { GraphBuilder } from './graph-builder.ts';
import { ExternalDataWriter } from './external-data.ts';

export interface WrittenModel {
  path: string;
  dataPath?: string;
}

/** Creates the external-data sink for a model that will be saved at `modelPath`. */
export function externalDataFor(modelPath: string): ExternalDataWriter {
  return new ExternalDataWriter(`${modelPath}.data`);
}

export async function writeModelFile(builder: GraphBuilder, modelPath: string, external?: ExternalDataWriter): Promise<WrittenModel> {
  const bytes = builder.encode();
  const tmp = `${modelPath}.tmp-${process.pid}`;
  try {
    if (external) external.close();
    await writeFile(tmp, bytes, { flush: true });
    await rename(tmp, modelPath);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { path: modelPath, dataPath: external?.path };
}
