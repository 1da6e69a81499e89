// Safetensors reader/writer. The reader never loads a whole file: real Dia checkpoints are 6.4 GB
// in fp32, so tensors are read one at a time from a file handle and converted on the fly.
// Format: u64 little-endian header length, JSON header {name: {dtype, shape, data_offsets}},
// then the raw little-endian tensor bytes (offsets are relative to the end of the header).
import { open, type FileHandle } from 'node:fs/promises';
import { AppError } from '../../../src-shared/errors.ts';
import { float16ToFloat32, bfloat16ToFloat32 } from './half.ts';

/** The dtypes this reader converts (to float32 or int32). */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';
/**
 * Other dtypes of the format (fp8, unsigned, sub-byte floats). A file holding some still opens, with
 * their offsets checked: a valid file is not "corrupt", and only reading such a tensor is refused.
 */
export type ForeignDtype = 'U16' | 'U32' | 'U64' | 'F8_E4M3' | 'F8_E5M2' | 'F8_E8M0' | 'F6_E2M3' | 'F6_E3M2' | 'F4' | 'C64';
export type StoredDtype = SafetensorsDtype | ForeignDtype;

/** The float dtypes toFloat32 converts. */
export const FLOAT_DTYPES: readonly StoredDtype[] = ['F32', 'F16', 'BF16', 'F64'];

const DTYPE_BITS: Record<StoredDtype, number> = {
  F64: 64, F32: 32, F16: 16, BF16: 16, I64: 64, I32: 32, I16: 16, I8: 8, U8: 8, BOOL: 8,
  U16: 16, U32: 32, U64: 64, F8_E4M3: 8, F8_E5M2: 8, F8_E8M0: 8, F6_E2M3: 6, F6_E3M2: 6, F4: 4, C64: 64,
};

export interface TensorInfo {
  name: string;
  dtype: StoredDtype;
  shape: number[];
  /** Absolute byte offset of the tensor data in the file. */
  offset: number;
  byteLength: number;
}

export type TensorData = Float32Array | Int32Array | Uint8Array;

export interface LoadedTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: TensorData;
}

const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export class SafetensorsFile {
  readonly path: string;
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  readonly metadata: Readonly<Record<string, string>>;
  private readonly handle: FileHandle;

  private constructor(path: string, handle: FileHandle, tensors: Map<string, TensorInfo>, metadata: Record<string, string>) {
    this.path = path;
    this.handle = handle;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  /** Opens and validates the header against the file size; the data itself is read lazily. */
  static async open(path: string): Promise<SafetensorsFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ENOENT') throw new AppError('model-missing', `Model file not found: ${path}`, { cause: err });
      throw new AppError('io-failed', `Cannot open ${path}: ${(err as Error).message}`, { cause: err });
    }
    try {
      const { size } = await handle.stat();
      const corrupt = (why: string): AppError => new AppError('model-corrupt', `Corrupt safetensors file ${path}: ${why}`);
      if (size < 8) throw corrupt('shorter than its 8-byte header length');
      const lenBuf = Buffer.alloc(8);
      await readExactly(handle, lenBuf, 0);
      const headerLen = Number(lenBuf.readBigUInt64LE(0));
      if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES || 8 + headerLen > size) throw corrupt(`bad header length ${headerLen}`);
      const headerBuf = Buffer.alloc(headerLen);
      await readExactly(handle, headerBuf, 8);
      let header: unknown;
      try {
        header = JSON.parse(headerBuf.toString('utf8'));
      } catch {
        throw corrupt('header is not valid JSON');
      }
      if (!isPlainObject(header)) throw corrupt('header is not a JSON object');
      const dataStart = 8 + headerLen;
      const dataBytes = size - dataStart;
      const tensors = new Map<string, TensorInfo>();
      let metadata: Record<string, string> = {};
      for (const [name, raw] of Object.entries(header)) {
        if (name === '__metadata__') {
          // null is "no metadata" to the reference reader, and some writers emit it.
          if (raw === null) continue;
          if (!isPlainObject(raw)) throw corrupt('__metadata__ is not an object');
          metadata = raw as Record<string, string>;
          continue;
        }
        if (!isPlainObject(raw)) throw corrupt(`tensor ${name} is not an object`);
        const dtype = raw.dtype;
        if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BITS, dtype)) throw corrupt(`tensor ${name} has unsupported dtype ${String(dtype)}`);
        const shape = raw.shape;
        const offsets = raw.data_offsets;
        if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw corrupt(`tensor ${name} has a bad shape`);
        if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
          throw corrupt(`tensor ${name} has bad data_offsets ${JSON.stringify(offsets)}`);
        }
        const [begin, end] = offsets as [number, number];
        // Sub-byte dtypes pack their elements: the bits must fill whole bytes.
        const byteLength = (elementCount(shape as number[]) * DTYPE_BITS[dtype as StoredDtype]) / 8;
        if (end - begin !== byteLength) throw corrupt(`tensor ${name} data_offsets do not match its shape`);
        if (end > dataBytes) throw corrupt(`truncated: header describes ${dataStart + end} bytes but the file has ${size}`);
        tensors.set(name, { name, dtype: dtype as StoredDtype, shape: shape as number[], offset: dataStart + begin, byteLength });
      }
      // Two tensors sharing bytes would make a write through one change the other: not a file any writer makes.
      const ranges = [...tensors.values()].filter((t) => t.byteLength > 0).sort((a, b) => a.offset - b.offset);
      for (let i = 1; i < ranges.length; i++) {
        const prev = ranges[i - 1];
        if (ranges[i].offset < prev.offset + prev.byteLength) throw corrupt(`tensors ${prev.name} and ${ranges[i].name} overlap`);
      }
      return new SafetensorsFile(path, handle, tensors, metadata);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new AppError('model-mismatch', `Tensor ${name} is missing from ${this.path}`);
    return t;
  }

  async readRaw(name: string): Promise<Buffer> {
    const t = this.info(name);
    const buf = Buffer.alloc(t.byteLength);
    try {
      await readExactly(this.handle, buf, t.offset);
    } catch (err) {
      // A checkpoint has several shards: say which file and tensor failed.
      if (err instanceof AppError) throw new AppError(err.code, `Corrupt safetensors file ${this.path}: tensor ${name} ends past the end of the file (was the file changed while in use?)`, { cause: err });
      throw new AppError('io-failed', `Cannot read tensor ${name} from ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    return buf;
  }

  /** Reads any float tensor (F32/F16/BF16/F64) converted to float32. */
  async readFloat32(name: string): Promise<Float32Array> {
    const t = this.info(name);
    return toFloat32(await this.readRaw(name), t.dtype, `Tensor ${name} in ${this.path}`);
  }

  /** Reads an integer tensor converted to int32 (int64 values must fit). */
  async readInt32(name: string): Promise<Int32Array> {
    const t = this.info(name);
    return toInt32(await this.readRaw(name), t.dtype, `Tensor ${name} in ${this.path}`);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function readExactly(handle: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await handle.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw new AppError('model-corrupt', `Unexpected end of file while reading at byte ${position + done}`);
    done += bytesRead;
  }
}

/** Copies into a fresh, aligned ArrayBuffer so typed views are valid whatever the source offset. */
function aligned(buf: Buffer): ArrayBuffer {
  const out = new ArrayBuffer(buf.length);
  new Uint8Array(out).set(buf);
  return out;
}

function unreadable(what: string, dtype: StoredDtype, wanted: string): AppError {
  return new AppError('model-mismatch', `${what} is stored as ${dtype}, which Dia Studio cannot read (it reads ${wanted})`);
}

export function toFloat32(buf: Buffer, dtype: StoredDtype, what: string): Float32Array {
  switch (dtype) {
    case 'F32':
      return new Float32Array(aligned(buf));
    case 'F16':
      return float16ToFloat32(new Uint16Array(aligned(buf)));
    case 'BF16':
      return bfloat16ToFloat32(new Uint16Array(aligned(buf)));
    case 'F64':
      return Float32Array.from(new Float64Array(aligned(buf)));
    default:
      throw unreadable(what, dtype, 'F32, F16, BF16 and F64 floats');
  }
}

export function toInt32(buf: Buffer, dtype: StoredDtype, what: string): Int32Array {
  switch (dtype) {
    case 'I32':
      return new Int32Array(aligned(buf));
    case 'I64': {
      const src = new BigInt64Array(aligned(buf));
      const out = new Int32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
      return out;
    }
    case 'I16':
      return Int32Array.from(new Int16Array(aligned(buf)));
    case 'I8':
      return Int32Array.from(new Int8Array(aligned(buf)));
    case 'U8':
    case 'BOOL':
      return Int32Array.from(buf);
    default:
      throw unreadable(what, dtype, 'I64, I32, I16, I8, U8 and BOOL integers');
  }
}

/** Convenience for small files (fixtures, golden vectors): everything, converted to f32/i32. */
export async function readSafetensorsFile(path: string): Promise<Map<string, LoadedTensor>> {
  const file = await SafetensorsFile.open(path);
  try {
    const out = new Map<string, LoadedTensor>();
    for (const t of file.tensors.values()) {
      const data = FLOAT_DTYPES.includes(t.dtype) ? await file.readFloat32(t.name) : await file.readInt32(t.name);
      // Read without error: the dtype is one the reader converts.
      out.set(t.name, { dtype: t.dtype as SafetensorsDtype, shape: t.shape, data });
    }
    return out;
  } finally {
    await file.close();
  }
}
