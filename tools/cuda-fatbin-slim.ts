// Shrinks a CUDA library for the trip to a lent GPU machine (tools/gpu-bundle.sh): zeroes the
// machine code that its `.nv_fatbin` section holds for GPUs other than the one it will run on.
// Nothing moves (offsets, sizes and every fatbin and entry header stay as they were), so the library
// loads as before; the zeroed runs compress to nothing, which takes onnxruntime's CUDA provider
// from ~178 MB to ~50 MB of xz, and the bundle from five device calls to two.
//
// What a device of compute capability M.m may run is unchanged: the driver loads a cubin built for
// sm_Xy only on a device with X = M and y <= m, and PTX (kept whole) on any newer one. Entries are
// never decoded, so compressed ones are handled alike. Anything unexpected in the section (an
// unknown entry kind, a size that overruns its container, bytes between containers that are not
// padding) is an error and the library is left alone.
//   node tools/cuda-fatbin-slim.ts --keep-sm 90 IN.so OUT.so     (prints a JSON report)
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const FATBIN_MAGIC = 0xba55ed50;
const ENTRY_PTX = 1;
const ENTRY_ELF = 2;
const SHT_NOBITS = 8;

export interface SlimReport {
  keepSm: number;
  containers: number;
  entries: number;
  /** Payload bytes per kind and architecture, e.g. "elf sm_90": 75310000. */
  keptBytes: Record<string, number>;
  zeroedBytes: Record<string, number>;
  /** Containers left with no cubin and no PTX the device can load (they had none before either). */
  containersWithoutCode: number;
}

interface Section {
  offset: number;
  size: number;
}

/** Whether a cubin built for `arch` (e.g. 86 for sm_86) runs on a device of compute capability keepSm. */
export function cubinRunsOn(arch: number, keepSm: number): boolean {
  return Math.floor(arch / 10) === Math.floor(keepSm / 10) && arch % 10 <= keepSm % 10;
}

/** The file range of the section named `name` in a little-endian ELF64 image, or null. */
export function findSection(elf: Uint8Array, name: string): Section | null {
  const view = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const isElf64Le = elf[0] === 0x7f && elf[1] === 0x45 && elf[2] === 0x4c && elf[3] === 0x46 && elf[4] === 2 && elf[5] === 1;
  if (!isElf64Le) throw new Error('not a little-endian 64-bit ELF file');
  const shoff = Number(view.getBigUint64(0x28, true));
  const shentsize = view.getUint16(0x3a, true);
  const shnum = view.getUint16(0x3c, true);
  const shstrndx = view.getUint16(0x3e, true);
  if (shoff + shnum * shentsize > elf.byteLength || shstrndx >= shnum) throw new Error('ELF section headers lie outside the file');
  const header = (i: number) => {
    const at = shoff + i * shentsize;
    return { name: view.getUint32(at, true), type: view.getUint32(at + 4, true), offset: Number(view.getBigUint64(at + 24, true)), size: Number(view.getBigUint64(at + 32, true)) };
  };
  const names = header(shstrndx);
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    const start = names.offset + h.name;
    const end = elf.indexOf(0, start);
    if (end < 0 || Buffer.from(elf.subarray(start, end)).toString('latin1') !== name) continue;
    if (h.type === SHT_NOBITS || h.offset + h.size > elf.byteLength) throw new Error(`section ${name} has no bytes in the file`);
    return { offset: h.offset, size: h.size };
  }
  return null;
}

/** Zeroes, in place, the cubins in `elf`'s .nv_fatbin section that a device of keepSm cannot run. */
export function slimFatbins(elf: Uint8Array, keepSm: number): SlimReport {
  if (!Number.isInteger(keepSm) || keepSm < 10) throw new Error(`--keep-sm must be a compute capability such as 90, got ${keepSm}`);
  const section = findSection(elf, '.nv_fatbin');
  if (!section) throw new Error('the library has no .nv_fatbin section');
  const view = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const report: SlimReport = { keepSm, containers: 0, entries: 0, keptBytes: {}, zeroedBytes: {}, containersWithoutCode: 0 };
  const add = (tally: Record<string, number>, key: string, bytes: number) => void (tally[key] = (tally[key] ?? 0) + bytes);
  const end = section.offset + section.size;
  let pos = section.offset;
  while (pos < end) {
    if (end - pos < 16 || view.getUint32(pos, true) !== FATBIN_MAGIC) {
      // Containers are 8-byte aligned; what lies between them must be zero padding.
      if (elf[pos] !== 0) throw new Error(`unexpected byte at .nv_fatbin offset ${pos - section.offset}`);
      pos++;
      continue;
    }
    const headerSize = view.getUint16(pos + 6, true);
    const containerEnd = pos + headerSize + Number(view.getBigUint64(pos + 8, true));
    if (headerSize < 16 || containerEnd > end) throw new Error(`fatbin container at offset ${pos - section.offset} overruns the section`);
    let usable = false;
    for (let p = pos + headerSize; p < containerEnd; ) {
      const kind = view.getUint16(p, true);
      const entryHeader = view.getUint32(p + 4, true);
      const size = Number(view.getBigUint64(p + 8, true));
      const arch = view.getUint32(p + 28, true);
      const payload = p + entryHeader;
      if ((kind !== ENTRY_PTX && kind !== ENTRY_ELF) || entryHeader < 32 || payload + size > containerEnd) {
        throw new Error(`unreadable fatbin entry at .nv_fatbin offset ${p - section.offset} (kind ${kind})`);
      }
      const label = `${kind === ENTRY_PTX ? 'ptx' : 'elf'} sm_${arch}`;
      if (kind === ENTRY_ELF && !cubinRunsOn(arch, keepSm)) {
        elf.fill(0, payload, payload + size);
        add(report.zeroedBytes, label, size);
      } else {
        add(report.keptBytes, label, size);
        usable ||= kind === ENTRY_PTX ? arch <= keepSm : true;
      }
      report.entries++;
      p = payload + size;
    }
    report.containers++;
    if (!usable) report.containersWithoutCode++;
    pos = containerEnd;
  }
  return report;
}

function main(): void {
  const { values, positionals } = parseArgs({ options: { 'keep-sm': { type: 'string' } }, allowPositionals: true });
  if (positionals.length !== 2 || !values['keep-sm']) throw new Error('usage: node tools/cuda-fatbin-slim.ts --keep-sm 90 IN.so OUT.so');
  const [input, output] = positionals;
  const elf = readFileSync(input);
  const report = slimFatbins(elf, Number(values['keep-sm']));
  writeFileSync(`${output}.partial`, elf, { mode: 0o755 });
  renameSync(`${output}.partial`, output);
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

if (import.meta.main) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`cuda-fatbin-slim: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
