// K/V data as the Dia graphs take and return it: float32, or float16 for fp16 models, whose host
// keeps the K/V as raw half bits (Uint16Array). Shared by the runtime and the reference driver.
import * as ort from 'onnxruntime-node';
import { AppError } from '../../../src-shared/errors.ts';

export type KvElement = 'float32' | 'float16';
export type KvData = Float32Array | Uint16Array;

/** A graph output's K/V data as `type`'s element array (fp16 may come as Float16Array). */
export function asKvData(data: ArrayBufferView, type: KvElement = 'float32'): KvData {
  if (type === 'float32') {
    if (!(data instanceof Float32Array)) throw new AppError('internal', 'expected float32 K/V');
    return data;
  }
  if (data.byteLength % 2 !== 0 || data instanceof Float32Array) throw new AppError('internal', 'expected float16 K/V');
  return new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
}

/**
 * K/V data as an input tensor. onnxruntime-common wraps a float16 tensor's Uint16Array in a
 * Float16Array where the runtime has one (Node 24, current Electron), and the Node binding's native
 * side reads a Float16Array as empty ("not enough space"): the tensor's `data` is pinned to the
 * Uint16Array itself (same bytes).
 */
export function kvTensor(data: KvData, dims: readonly number[]): ort.Tensor {
  if (data instanceof Float32Array) return new ort.Tensor('float32', data, dims);
  const tensor = new ort.Tensor('float16', data, dims);
  Object.defineProperty(tensor, 'data', { value: data });
  return tensor;
}

/** The element type of a session input (float16 where the graph takes fp16 K/V). */
export function inputElement(session: ort.InferenceSession, name: string): KvElement {
  const meta = session.inputMetadata.find((m) => m.name === name);
  if (!meta?.isTensor) throw new AppError('model-corrupt', `the graph has no tensor input ${name}`);
  return meta.type === 'float16' ? 'float16' : 'float32';
}
