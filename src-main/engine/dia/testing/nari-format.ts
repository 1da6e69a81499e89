// Test support: rewrites a transformers-layout Dia checkpoint in the original nari layout, so the
// nari weight mapping can be checked against the transformers one on identical weights.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readSafetensorsFile } from '../../checkpoint/safetensors.ts';
import { writeSafetensors, type TensorToWrite } from '../../checkpoint/safetensors-writer.ts';
import type { DiaConfig } from '../../checkpoint/dia-config.ts';
import { diaWeightPlan, transpose } from '../dia-weights.ts';

/** The nari-format config.json for a config (the inverse of parseNari). */
export function nariConfigJson(c: DiaConfig): Record<string, unknown> {
  return {
    model: {
      encoder: { n_layer: c.encoder.layers, n_embd: c.encoder.hidden, n_hidden: c.encoder.intermediate, n_head: c.encoder.attention.heads, head_dim: c.encoder.attention.headDim },
      decoder: {
        n_layer: c.decoder.layers, n_embd: c.decoder.hidden, n_hidden: c.decoder.intermediate,
        gqa_query_heads: c.decoder.selfAttention.heads, kv_heads: c.decoder.selfAttention.kvHeads, gqa_head_dim: c.decoder.selfAttention.headDim,
        cross_query_heads: c.decoder.crossAttention.heads, cross_head_dim: c.decoder.crossAttention.headDim,
      },
      src_vocab_size: c.encoder.vocab, tgt_vocab_size: c.decoder.vocab, normalization_layer_epsilon: c.decoder.normEps,
      rope_min_timescale: 1, rope_max_timescale: c.decoder.rope.maxTimescale,
    },
    data: {
      text_length: c.encoder.maxPositions, audio_length: c.decoder.maxPositions, channels: c.decoder.channels, text_pad_value: 0,
      audio_eos_value: c.eosToken, audio_pad_value: c.padToken, audio_bos_value: c.bosToken, delay_pattern: c.delayPattern,
    },
  };
}

/**
 * Rewrites a transformers checkpoint in the original nari layout, following the documented
 * conversion in reverse: DenseGeneral = Linear.T reshaped, nine embedding tables, head [d, C, V].
 */
export async function convertToNari(hfDir: string, nariDir: string, c: DiaConfig): Promise<void> {
  const hf = await readSafetensorsFile(join(hfDir, 'model.safetensors'));
  const hfSpecs = new Map(diaWeightPlan(c, 'transformers').map((s) => [s.key, s]));
  const tensors: TensorToWrite[] = [];
  for (const spec of diaWeightPlan(c, 'nari')) {
    const src = hfSpecs.get(spec.key)!;
    if (spec.kind === 'linear' && src.kind === 'linear') {
      const data = transpose(hf.get(src.source)!.data as Float32Array, spec.out, spec.in);
      tensors.push({ name: spec.source, dtype: 'F32', shape: spec.sourceShape, data });
    } else if (spec.kind === 'vector' && src.kind === 'vector') {
      tensors.push({ name: spec.source, dtype: 'F32', shape: [spec.size], data: hf.get(src.source)!.data as Float32Array });
    } else if (spec.kind === 'embedding' && src.kind === 'embedding') {
      const table = hf.get(src.sources[0])!.data as Float32Array;
      const rows = spec.rows / spec.sources.length;
      spec.sources.forEach((name, i) => tensors.push({ name, dtype: 'F32', shape: [rows, spec.width], data: table.slice(i * rows * spec.width, (i + 1) * rows * spec.width) }));
    }
  }
  await writeSafetensors(join(nariDir, 'model.safetensors'), tensors);
  await writeFile(join(nariDir, 'config.json'), JSON.stringify(nariConfigJson(c)));
}
