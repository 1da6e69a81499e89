import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cubinRunsOn, findSection, slimFatbins } from './cuda-fatbin-slim.ts';

interface Entry {
  kind: 'ptx' | 'elf';
  arch: number;
  size: number;
}

const ENTRY_HEADER = 64;

/** One fatbin container: a 16-byte header, then entries of a 64-byte header and a payload. */
function container(entries: Entry[], fill: number): Buffer {
  const parts = entries.map((e, i) => {
    const b = Buffer.alloc(ENTRY_HEADER + e.size, fill + i);
    b.fill(0, 0, ENTRY_HEADER);
    b.writeUInt16LE(e.kind === 'ptx' ? 1 : 2, 0);
    b.writeUInt32LE(ENTRY_HEADER, 4);
    b.writeBigUInt64LE(BigInt(e.size), 8);
    b.writeUInt16LE(e.arch % 10, 24);
    b.writeUInt16LE(Math.floor(e.arch / 10), 26);
    b.writeUInt32LE(e.arch, 28);
    return b;
  });
  const body = Buffer.concat(parts);
  const header = Buffer.alloc(16);
  header.writeUInt32LE(0xba55ed50, 0);
  header.writeUInt16LE(1, 4);
  header.writeUInt16LE(16, 6);
  header.writeBigUInt64LE(BigInt(body.length), 8);
  return Buffer.concat([header, body]);
}

/** A minimal ELF64 file: a text-like section, .nv_fatbin holding `fatbin`, and the name table. */
function elfWith(fatbin: Buffer): Buffer {
  const names = Buffer.from('\0.shstrtab\0.nv_fatbin\0.text\0', 'latin1');
  const text = Buffer.alloc(40, 0xcc);
  const dataStart = 64;
  const sections = [
    { name: 0, type: 0, offset: 0, size: 0 },
    { name: 1, type: 3, offset: dataStart, size: names.length },
    { name: 22, type: 1, offset: dataStart + names.length, size: text.length },
    { name: 11, type: 1, offset: dataStart + names.length + text.length, size: fatbin.length },
  ];
  const shoff = dataStart + names.length + text.length + fatbin.length;
  const header = Buffer.alloc(64);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(header);
  header.writeBigUInt64LE(BigInt(shoff), 0x28);
  header.writeUInt16LE(64, 0x3a);
  header.writeUInt16LE(sections.length, 0x3c);
  header.writeUInt16LE(1, 0x3e);
  const table = Buffer.alloc(64 * sections.length);
  sections.forEach((s, i) => {
    table.writeUInt32LE(s.name, i * 64);
    table.writeUInt32LE(s.type, i * 64 + 4);
    table.writeBigUInt64LE(BigInt(s.offset), i * 64 + 24);
    table.writeBigUInt64LE(BigInt(s.size), i * 64 + 32);
  });
  return Buffer.concat([header, names, text, fatbin, table]);
}

const FIRST: Entry[] = [
  { kind: 'elf', arch: 80, size: 40 },
  { kind: 'elf', arch: 90, size: 24 },
  { kind: 'ptx', arch: 80, size: 16 },
];
const SECOND: Entry[] = [
  { kind: 'elf', arch: 75, size: 8 },
  { kind: 'elf', arch: 120, size: 32 },
];
// The second container starts 8-byte aligned after zero padding, as in real libraries.
const FATBIN = Buffer.concat([container(FIRST, 0x10), Buffer.alloc(8), container(SECOND, 0x20)]);

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('cuda-fatbin-slim', () => {
  it('runs a cubin only on the same major version and an equal or newer minor', () => {
    expect(cubinRunsOn(90, 90)).toBe(true);
    expect(cubinRunsOn(86, 89)).toBe(true);
    expect(cubinRunsOn(89, 86)).toBe(false);
    expect(cubinRunsOn(80, 90)).toBe(false);
    expect(cubinRunsOn(120, 90)).toBe(false);
  });

  it('zeroes exactly the payloads of cubins the device cannot run, and nothing else', () => {
    const original = elfWith(FATBIN);
    const slim = Buffer.from(original);
    const report = slimFatbins(slim, 90);
    expect(report).toEqual({
      keepSm: 90,
      containers: 2,
      entries: 5,
      keptBytes: { 'elf sm_90': 24, 'ptx sm_80': 16 },
      zeroedBytes: { 'elf sm_80': 40, 'elf sm_75': 8, 'elf sm_120': 32 },
      containersWithoutCode: 1,
    });
    expect(slim.length).toBe(original.length);
    const fat = findSection(original, '.nv_fatbin')!;
    // The zeroed ranges: the first entry's payload in container 1, both payloads in container 2.
    const first = fat.offset + 16 + ENTRY_HEADER;
    const secondContainer = fat.offset + container(FIRST, 0).length + 8;
    const zeroed = [
      [first, first + 40],
      [secondContainer + 16 + ENTRY_HEADER, secondContainer + 16 + ENTRY_HEADER + 8],
      [secondContainer + 16 + 2 * ENTRY_HEADER + 8, secondContainer + 16 + 2 * ENTRY_HEADER + 8 + 32],
    ];
    const inZeroed = (i: number) => zeroed.some(([a, b]) => i >= a && i < b);
    for (let i = 0; i < original.length; i++) {
      if (inZeroed(i)) expect(slim[i], `byte ${i}`).toBe(0);
      else if (slim[i] !== original[i]) expect.fail(`byte ${i} changed outside the zeroed payloads`);
    }
    for (const [a, b] of zeroed) expect(original.subarray(a, b).every((x) => x !== 0)).toBe(true);
  });

  it('keeps the sm_80 cubin for an sm_86 device', () => {
    const slim = elfWith(FATBIN);
    expect(slimFatbins(slim, 86).keptBytes).toEqual({ 'elf sm_80': 40, 'ptx sm_80': 16 });
  });

  it('refuses what it cannot read, leaving the bytes alone', () => {
    const noFatbin = elfWith(FATBIN);
    noFatbin.write('.nv_fatbix', 64 + 11, 'latin1');
    expect(() => slimFatbins(noFatbin, 90)).toThrow(/no .nv_fatbin section/);

    const badKind = elfWith(FATBIN);
    const fat = findSection(badKind, '.nv_fatbin')!;
    badKind.writeUInt16LE(7, fat.offset + 16);
    const before = Buffer.from(badKind);
    expect(() => slimFatbins(badKind, 90)).toThrow(/unreadable fatbin entry .* \(kind 7\)/);
    expect(badKind.equals(before)).toBe(true);

    const overrun = elfWith(FATBIN);
    overrun.writeBigUInt64LE(BigInt(FATBIN.length), fat.offset + 8);
    expect(() => slimFatbins(overrun, 90)).toThrow(/overruns the section/);

    const junk = elfWith(FATBIN);
    junk[fat.offset + container(FIRST, 0).length + 3] = 1;
    expect(() => slimFatbins(junk, 90)).toThrow(/unexpected byte/);

    expect(() => slimFatbins(Buffer.from('not an elf file at all, really not'), 90)).toThrow(/not a little-endian 64-bit ELF/);
  });

  it('writes the slimmed copy and prints its report from the command line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fatbin-slim-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'lib.so'), elfWith(FATBIN));
    const out = execFileSync(process.execPath, ['tools/cuda-fatbin-slim.ts', '--keep-sm', '90', join(dir, 'lib.so'), join(dir, 'slim.so')], { encoding: 'utf8' });
    expect(JSON.parse(out)).toMatchObject({ containers: 2, zeroedBytes: { 'elf sm_80': 40 } });
    const expected = elfWith(FATBIN);
    slimFatbins(expected, 90);
    expect(readFileSync(join(dir, 'slim.so')).equals(expected)).toBe(true);
  });
});
