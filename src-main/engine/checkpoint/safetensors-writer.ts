// Streaming safetensors writer: the header is computed from shapes alone, then each tensor's
// bytes are produced and written one at a time, so multi-GB random checkpoints (benchmarks at real
// Dia shapes) never sit in memory whole. Written to a temp file and renamed into place.
import { open, rename, rm } from 'node:fs/promises';
import type { SafetensorsDtype } from './safetensors.ts';
import { elementCount } from './safetensors.ts';
import { float32ToBfloat16, float32ToFloat16 } from './half.ts';

const BYTES: Record<SafetensorsDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

export interface TensorToWrite {
  name: string;
  /** Storage dtype. Float data is given as Float32Array and converted; I32 as Int32Array. */
  dtype: SafetensorsDtype;
  shape: number[];
  /** The data, or a function producing it when its turn comes (keeps peak memory to one tensor). */
  data: Float32Array | Int32Array | (() => Float32Array | Int32Array);
}

function encode(t: TensorToWrite, data: Float32Array | Int32Array): Uint8Array {
  const n = elementCount(t.shape);
  if (data.length !== n) throw new Error(`Tensor ${t.name}: ${data.length} values for shape [${t.shape.join(', ')}]`);
  let view: ArrayBufferView;
  switch (t.dtype) {
    case 'F32':
      view = data instanceof Float32Array ? data : Float32Array.from(data);
      break;
    case 'F16':
      view = float32ToFloat16(data instanceof Float32Array ? data : Float32Array.from(data));
      break;
    case 'BF16':
      view = float32ToBfloat16(data instanceof Float32Array ? data : Float32Array.from(data));
      break;
    case 'I32':
      view = data instanceof Int32Array ? data : Int32Array.from(data);
      break;
    case 'I64':
      view = BigInt64Array.from(data, (v) => BigInt(Math.trunc(v)));
      break;
    default:
      throw new Error(`Tensor ${t.name}: writing ${t.dtype} is not supported`);
  }
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

export async function writeSafetensors(path: string, tensors: TensorToWrite[], metadata?: Record<string, string>): Promise<void> {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const size = elementCount(t.shape) * BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so tensor data starts 8-byte aligned (as the reference writer does).
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const lenBytes = Buffer.alloc(8);
  lenBytes.writeBigUInt64LE(BigInt(headerBytes.length));

  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w');
  try {
    await fh.write(lenBytes);
    await fh.write(headerBytes);
    for (const t of tensors) {
      const data = typeof t.data === 'function' ? t.data() : t.data;
      const bytes = encode(t, data);
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await fh.write(bytes, done, Math.min(bytes.length - done, 1 << 26));
        done += bytesWritten;
      }
    }
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
}
