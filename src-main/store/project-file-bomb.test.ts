// A crafted .diaproj whose audio is a FLAC "bomb": a few KB of constant frames whose STREAMINFO
// announces hundreds of millions of samples. Decoding one would take gigabytes (and the app down)
// before any length check ran; the FLAC decoder refuses such audio from its STREAMINFO alone.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { errorOf } from '../../src-shared/testing/app-errors.ts';
import { FlacStreamDecoder } from './flac.ts';
import { openProjectStore, type ProjectStore } from './project-store.ts';
import { openTakeStore, type TakeStore } from './take-store.ts';
import { removeTempDirs, sampleKeyInput, speechLikeAudio, tempDir } from './testing.ts';

afterAll(removeTempDirs);
const closers: Array<{ close(): void }> = [];
afterEach(() => {
  for (const c of closers.splice(0)) c.close();
  vi.restoreAllMocks();
});

async function stores(): Promise<{ projects: ProjectStore; takes: TakeStore }> {
  const dir = tempDir();
  const projects = await openProjectStore(dir);
  const takes = await openTakeStore(dir);
  closers.push(projects, takes);
  return { projects, takes };
}

function crc8(bytes: number[]): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

function crc16(bytes: number[]): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x8005) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** A valid mono 24-bit FLAC of `frames` silent frames of 65535 samples each (no MD5, so none is checked). */
function flacBomb(frames: number, sampleRate = 44_100): Buffer {
  const block = 65535;
  const out: number[] = [...Buffer.from('fLaC'), 0x80, 0, 0, 34];
  out.push(block >> 8, block & 0xff, block >> 8, block & 0xff, 0, 0, 0, 0, 0, 0);
  // sample rate (20 bits) | channels - 1 (3) | bits per sample - 1 (5) | total samples (36)
  const packed = (BigInt(sampleRate) << 44n) | (0n << 41n) | (23n << 36n) | BigInt(frames * block);
  for (let shift = 56n; shift >= 0n; shift -= 8n) out.push(Number((packed >> shift) & 0xffn));
  out.push(...new Array(16).fill(0));
  for (let n = 0; n < frames; n++) {
    const number = n < 0x80 ? [n] : n < 0x800 ? [0xc0 | (n >> 6), 0x80 | (n & 0x3f)] : [0xe0 | (n >> 12), 0x80 | ((n >> 6) & 0x3f), 0x80 | (n & 0x3f)];
    const header = [0xff, 0xf8, 0x70, 0x0c, ...number, (block - 1) >> 8, (block - 1) & 0xff];
    const frame = [...header, crc8(header), 0x00, 0, 0, 0];
    const crc = crc16(frame);
    out.push(...frame, crc >> 8, crc & 0xff);
  }
  return Buffer.from(out);
}

/** Fails the test once far more frames are decoded than any real take or clip of it holds. */
function guardDecoding(): void {
  const next = FlacStreamDecoder.prototype.next;
  let frames = 0;
  vi.spyOn(FlacStreamDecoder.prototype, 'next').mockImplementation(function (this: FlacStreamDecoder) {
    if (++frames > 2000) throw new Error('decoded a FLAC bomb from the file');
    return next.call(this);
  });
}

async function exportedFile(): Promise<{ file: string; takeKeys: string[] }> {
  const src = await stores();
  const base = src.projects.createProject('Bomb');
  const prompt = src.projects.putVoicePrompt(base.id, { samples: speechLikeAudio(1, 21), sampleRate: 44_100, transcript: '[S1] My voice.' });
  const lines = [{ id: 'a', speakerId: 'ada', text: 'First line.', chosenTake: null }];
  const line = { projectId: base.id, lineId: 'a', text: 'First line.' };
  const takeKeys = [1, 2].map((seed) =>
    src.takes.putTake({
      keyInput: sampleKeyInput({ seed, voicePromptSha256: prompt.sha256, normalizedText: '[S1] First line.' }),
      line, audio: speechLikeAudio(0.5, seed), sampleRate: 44_100, metrics: { generationMs: 1000, ttfaMs: 200, steps: 40 },
    }).key,
  );
  src.projects.saveProject({ ...base, speakers: [{ id: 'ada', name: 'Ada', color: '#102030', voicePrompt: prompt }], lines });
  const file = join(tempDir(), 'bomb.diaproj');
  src.projects.exportProject(base.id, file, { takeStore: src.takes, takes: 'all' });
  return { file, takeKeys };
}

describe('.diaproj audio that announces more samples than any take holds', () => {
  it('skips a take whose audio is a FLAC bomb without decoding it; the rest of the file comes in', async () => {
    const { file, takeKeys } = await exportedFile();
    const db = new Database(file);
    db.prepare('UPDATE take_audio SET flac = ? WHERE key = ?').run(flacBomb(4096), takeKeys[0]);
    db.close();
    guardDecoding();
    const dst = await stores();
    const imported = dst.projects.importProject(file, { takeStore: dst.takes });
    expect(imported).toMatchObject({ takes: 1, damagedTakes: 1, voicePrompts: 1 });
    expect(dst.takes.findTake(takeKeys[1])).not.toBeNull();
    expect(dst.takes.findTake(takeKeys[0])).toBeNull();
  });

  // 655 350 Hz (STREAMINFO allows up to 2^20 - 1) makes 268M samples look like 410 s.
  it('skips a take whose FLAC bomb announces an impossible sample rate to look short enough, without decoding it', async () => {
    const { file, takeKeys } = await exportedFile();
    const db = new Database(file);
    db.prepare('UPDATE take_audio SET flac = ? WHERE key = ?').run(flacBomb(4096, 655_350), takeKeys[0]);
    db.close();
    guardDecoding();
    const dst = await stores();
    const imported = dst.projects.importProject(file, { takeStore: dst.takes });
    expect(imported).toMatchObject({ takes: 1, damagedTakes: 1, voicePrompts: 1 });
    expect(dst.takes.findTake(takeKeys[0])).toBeNull();
  });

  it('refuses a file whose voice prompt is a FLAC bomb, with a clear error, without decoding it or storing anything', async () => {
    const { file } = await exportedFile();
    const db = new Database(file);
    db.prepare('UPDATE voice_prompt_audio SET flac = ?').run(flacBomb(4096));
    db.close();
    guardDecoding();
    const dst = await stores();
    const err = errorOf(() => dst.projects.importProject(file, { takeStore: dst.takes }));
    expect(err).toMatchObject({ code: 'invalid-input' });
    expect(err.message).toMatch(/bomb\.diaproj is damaged: .*voice prompt [0-9a-f]{12}….*more than/);
    expect(dst.projects.listProjects()).toEqual([]);
  });
});
