// Checkpoints whose weights cannot make a working model: values that are not finite, values an fp16
// compile cannot hold, and tensors stored in a dtype the loader cannot convert. Each must fail the
// compile with an error naming the tensor, never give a model that renders NaN.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readSafetensorsFile, type LoadedTensor } from '../checkpoint/safetensors.ts';
import { writeSafetensors } from '../checkpoint/safetensors-writer.ts';
import { readDiaConfig } from '../checkpoint/dia-config.ts';
import { expectRejection } from '../../../src-shared/testing/app-errors.ts';
import { compileDia } from './compile.ts';
import { DiaWeights } from './dia-weights.ts';
import { DIA_TINY_CONFIG, writeRandomDiaCheckpoint } from './random-checkpoint.ts';
import { tempDirs } from './testing/temp-dirs.ts';

const temp = tempDirs('dia-wcheck-');

const TARGET = 'model.decoder.layers.1.mlp.down_proj.weight';

describe('weights that cannot make a working model', () => {
  let source: string;
  let tensors: Map<string, LoadedTensor>;

  beforeAll(async () => {
    source = await temp('src');
    await writeRandomDiaCheckpoint(source, DIA_TINY_CONFIG, { dtype: 'F32', seed: 3 });
    tensors = await readSafetensorsFile(join(source, 'model.safetensors'));
  });

  /** A copy of the source checkpoint in `dtype`, with `target`'s elements set as `values` says. */
  async function withValues(values: Record<number, number>, dtype: 'F32' | 'BF16' | 'F16', target = TARGET): Promise<string> {
    const dir = await temp('ckpt');
    await writeFile(join(dir, 'config.json'), await readFile(join(source, 'config.json')));
    await writeSafetensors(join(dir, 'model.safetensors'), [...tensors].map(([name, t]) => {
      const data = Float32Array.from(t.data);
      if (name === target) for (const [at, value] of Object.entries(values)) data[Number(at)] = value;
      return { name, dtype, shape: t.shape, data };
    }));
    return dir;
  }
  const withValue = (value: number, dtype: 'F32' | 'BF16' | 'F16'): Promise<string> => withValues({ 5: value }, dtype);

  it('refuses NaN and infinite weights in any stored dtype, naming the tensor', async () => {
    for (const [value, dtype] of [[NaN, 'F32'], [Infinity, 'BF16'], [-Infinity, 'F16']] as const) {
      const dir = await withValue(value, dtype);
      const err = await expectRejection(compileDia(dir, await temp('out'), { precision: 'fp32' }), 'model-corrupt', TARGET);
      expect(err.message).toContain(join(dir, 'model.safetensors'));
    }
  });

  it('refuses an fp16 compile of weights beyond float16 range, naming the tensor; fp32 compiles them', async () => {
    const dir = await withValue(1e5, 'F32');
    const err = await expectRejection(compileDia(dir, await temp('out16'), { precision: 'fp16' }), 'model-mismatch', TARGET);
    expect(err.message).toMatch(/fp32/);
    expect(err.message).toContain(join(dir, 'model.safetensors'));
    expect(err.message).toContain('element 5');
    const fp32 = await compileDia(dir, await temp('out32'), { precision: 'fp32' });
    expect(fp32.precision).toBe('fp32');
  });

  it('calls weights damaged, not merely beyond float16, when a NaN follows a large value', async () => {
    const dir = await withValues({ 2: 1e5, 7: NaN }, 'F32');
    const err = await expectRejection(compileDia(dir, await temp('out16'), { precision: 'fp16' }), 'model-corrupt', TARGET);
    expect(err.message).toContain('element 7');
  });

  it('compiles fp16 with a norm weight beyond float16 range (norms stay float32)', async () => {
    const dir = await withValues({ 3: 1e5 }, 'F32', 'model.decoder.layers.1.pre_mlp_norm.weight');
    expect((await compileDia(dir, await temp('out16'), { precision: 'fp16' })).precision).toBe('fp16');
  });

  it('names a needed tensor stored in a dtype the loader cannot convert', async () => {
    const dir = await temp('fp8');
    await writeFile(join(dir, 'config.json'), await readFile(join(source, 'config.json')));
    const header: Record<string, unknown> = {};
    const parts: Buffer[] = [];
    let offset = 0;
    for (const [name, t] of tensors) {
      const fp8 = name === TARGET;
      const bytes = fp8 ? Buffer.alloc(t.data.length, 0x38) : Buffer.from((t.data as Float32Array).buffer);
      header[name] = { dtype: fp8 ? 'F8_E4M3' : 'F32', shape: t.shape, data_offsets: [offset, offset + bytes.length] };
      parts.push(bytes);
      offset += bytes.length;
    }
    const json = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    await writeFile(join(dir, 'model.safetensors'), Buffer.concat([len, json, ...parts]));
    const err = await expectRejection(DiaWeights.open(dir, await readDiaConfig(dir)), 'model-mismatch', TARGET);
    expect(err.message).toContain('F8_E4M3');
  });
});
