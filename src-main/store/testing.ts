// Shared by the store tests, the crash-test child and bench/cache.ts: deterministic inputs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '../../src-shared/seeded-random.ts';
import type { LineRef, NewTake, TakeKeyInput } from './types.ts';

const createdDirs: string[] = [];

export function tempDir(prefix = 'dia-store-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  createdDirs.push(dir);
  return dir;
}

/** Deletes every folder tempDir() made in this process (test files call it in afterAll). */
export function removeTempDirs(): void {
  for (const dir of createdDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export { seededRandom };

/**
 * Speech-like test audio: a voiced harmonic source with a wandering pitch, a syllable-rate
 * envelope and a -65 dBFS RMS noise floor, peaking near -10 dBFS. It compresses roughly like
 * real TTS output (harmonics over a noise floor), unlike pure tones or white noise.
 */
export function speechLikeAudio(seconds: number, seed = 1, sampleRate = 44_100): Float32Array {
  const rand = seededRandom(seed);
  const out = new Float32Array(Math.round(seconds * sampleRate));
  let phase = 0;
  const pitchBase = 100 + rand() * 120;
  for (let i = 0; i < out.length; i++) {
    const t = i / sampleRate;
    const f0 = pitchBase * (1 + 0.15 * Math.sin(2 * Math.PI * 0.7 * t) + 0.05 * Math.sin(2 * Math.PI * 3.1 * t));
    phase += (2 * Math.PI * f0) / sampleRate;
    let voiced = 0;
    for (let h = 1; h <= 16; h++) voiced += Math.sin(phase * h + h) / h;
    const syllable = Math.max(0, Math.sin(2 * Math.PI * 2.3 * t)) ** 1.5;
    out[i] = 0.18 * syllable * voiced + 0.002 * (rand() - 0.5);
  }
  return out;
}

export function sampleKeyInput(overrides: Partial<TakeKeyInput> = {}): TakeKeyInput {
  return {
    model: { id: 'nari-labs/Dia-1.6B-0626', weightsSha256: 'ab'.repeat(32), precision: 'int4', deviceClass: 'cpu' },
    normalizedText: '[S1] Hello there. [S2] (laughs) Hi!',
    speaker: 'S1',
    voicePromptSha256: null,
    contextSha256: null,
    seed: 1234,
    sampling: { guidanceScale: 3, temperature: 1.2, topP: 0.95, topK: 45, order: '0626', maxTokens: 3072 },
    chunking: { maxPassChars: 400, splitAt: 'sentence', carryOverSeconds: 0 },
    ...overrides,
  };
}

export function sampleLine(overrides: Partial<LineRef> = {}): LineRef {
  return { projectId: 'project-1', lineId: 'line-1', text: 'Hello there.', ...overrides };
}

export function sampleTake(seed: number, seconds = 1, line: LineRef = sampleLine()): NewTake {
  return {
    keyInput: sampleKeyInput({ seed, normalizedText: `[S1] ${line.text}` }),
    line,
    audio: speechLikeAudio(seconds, seed),
    sampleRate: 44_100,
    metrics: { generationMs: seconds * 2300, ttfaMs: 420, steps: Math.round(seconds * 86) },
  };
}
