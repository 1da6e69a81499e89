// Sink for ONNX external tensor data. Bytes are written synchronously as initializers are added
// (the builder API is synchronous), aligned so ORT can memory-map them.
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { basename } from 'node:path';

const ALIGN = 64;

export class ExternalDataWriter {
  readonly path: string;
  /** Name stored in the model's `location` entries (relative to the .onnx file). */
  readonly relativeName: string;
  private fd: number | undefined;
  private offset = 0;

  constructor(path: string) {
    this.path = path;
    this.relativeName = basename(path);
    this.fd = openSync(path, 'w');
  }

  append(bytes: Uint8Array): { offset: number; length: number } {
    if (this.fd === undefined) throw new Error(`External data file ${this.path} is already closed`);
    const pad = (ALIGN - (this.offset % ALIGN)) % ALIGN;
    if (pad) {
      writeSync(this.fd, new Uint8Array(pad));
      this.offset += pad;
    }
    const start = this.offset;
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, Math.min(bytes.length - done, 1 << 26));
    this.offset += bytes.length;
    return { offset: start, length: bytes.length };
  }

  get size(): number {
    return this.offset;
  }

  close(): void {
    if (this.fd === undefined) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
  }
}
