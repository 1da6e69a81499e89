import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src-shared/errors.ts';
import { MAX_LINE_CHARS } from '../../src-shared/api/common.ts';
import { canonicalJson, takeKey, takeKeyDocument } from './take-key.ts';
import { sampleKeyInput } from './testing.ts';
import type { TakeKeyInput } from './types.ts';

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const text = fc.string({ minLength: 1, maxLength: 60, unit: 'grapheme' }).filter((s) => !s.includes('\u0000'));

const keyInputArb: fc.Arbitrary<TakeKeyInput> = fc.record({
  model: fc.record({
    id: text,
    weightsSha256: hex64,
    precision: fc.constantFrom('fp32' as const, 'fp16' as const, 'int4' as const),
    deviceClass: fc.constantFrom('cpu', 'cuda', 'webgpu', 'dml'),
  }),
  normalizedText: text,
  speaker: text,
  voicePromptSha256: fc.option(hex64, { nil: null }),
  contextSha256: fc.option(hex64, { nil: null }),
  seed: fc.integer({ min: 0, max: 0xffffffff }),
  sampling: fc.record({
    guidanceScale: fc.double({ min: 0, max: 20, noNaN: true }),
    temperature: fc.double({ min: 0, max: 5, noNaN: true }),
    topP: fc.double({ min: 0.01, max: 1, noNaN: true }),
    topK: fc.integer({ min: 1, max: 1028 }),
    order: fc.constantFrom('0626' as const, 'v1' as const),
    maxTokens: fc.integer({ min: 16, max: 3072 }),
  }),
  chunking: fc.record({
    maxPassChars: fc.integer({ min: 16, max: 10_000 }),
    splitAt: fc.constantFrom('sentence' as const, 'clause' as const),
    carryOverSeconds: fc.double({ min: 0, max: 30, noNaN: true }),
  }),
});

/** Every leaf of a key input with a way to give it a different valid value. */
const MUTATIONS: Array<[string, (k: TakeKeyInput) => void]> = [
  ['model.id', (k) => { k.model.id += 'x'; }],
  ['model.weightsSha256', (k) => { k.model.weightsSha256 = flipHex(k.model.weightsSha256); }],
  ['model.precision', (k) => { k.model.precision = k.model.precision === 'fp32' ? 'fp16' : 'fp32'; }],
  ['model.deviceClass', (k) => { k.model.deviceClass = k.model.deviceClass === 'cpu' ? 'cuda' : 'cpu'; }],
  ['normalizedText', (k) => { k.normalizedText += ' '; }],
  ['speaker', (k) => { k.speaker += '2'; }],
  ['voicePromptSha256', (k) => { k.voicePromptSha256 = k.voicePromptSha256 === null ? '0'.repeat(64) : null; }],
  ['contextSha256', (k) => { k.contextSha256 = k.contextSha256 === null ? '0'.repeat(64) : flipHex(k.contextSha256); }],
  ['seed', (k) => { k.seed = k.seed === 0 ? 1 : k.seed - 1; }],
  ['sampling.guidanceScale', (k) => { k.sampling.guidanceScale = k.sampling.guidanceScale < 10 ? k.sampling.guidanceScale + 0.5 : k.sampling.guidanceScale - 0.5; }],
  ['sampling.temperature', (k) => { k.sampling.temperature = k.sampling.temperature < 2 ? k.sampling.temperature + 0.01 : k.sampling.temperature - 0.01; }],
  ['sampling.topP', (k) => { k.sampling.topP = k.sampling.topP > 0.5 ? k.sampling.topP - 0.001 : k.sampling.topP + 0.001; }],
  ['sampling.topK', (k) => { k.sampling.topK = k.sampling.topK === 1 ? 2 : k.sampling.topK - 1; }],
  ['sampling.order', (k) => { k.sampling.order = k.sampling.order === '0626' ? 'v1' : '0626'; }],
  ['sampling.maxTokens', (k) => { k.sampling.maxTokens = k.sampling.maxTokens === 16 ? 17 : k.sampling.maxTokens - 1; }],
  ['chunking.maxPassChars', (k) => { k.chunking.maxPassChars = k.chunking.maxPassChars === 16 ? 17 : k.chunking.maxPassChars - 1; }],
  ['chunking.splitAt', (k) => { k.chunking.splitAt = k.chunking.splitAt === 'sentence' ? 'clause' : 'sentence'; }],
  ['chunking.carryOverSeconds', (k) => { k.chunking.carryOverSeconds = k.chunking.carryOverSeconds < 15 ? k.chunking.carryOverSeconds + 0.25 : k.chunking.carryOverSeconds - 0.25; }],
];

function flipHex(h: string): string {
  return (h[0] === '0' ? '1' : '0') + h.slice(1);
}

/** Rebuilds every object with its keys in a random order. */
function shuffleKeys(value: unknown, rand: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffleKeys(v, rand));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value).sort(() => rand() - 0.5);
  return Object.fromEntries(entries.map(([k, v]) => [k, shuffleKeys(v, rand)]));
}

describe('takeKey', () => {
  it('covers every field of the input: each leaf has a mutation', () => {
    const leaves: string[] = [];
    const walk = (v: unknown, path: string): void => {
      if (v !== null && typeof v === 'object') for (const [k, c] of Object.entries(v)) walk(c, path ? `${path}.${k}` : k);
      else leaves.push(path);
    };
    walk(sampleKeyInput(), '');
    expect(MUTATIONS.map(([name]) => name).sort()).toEqual(leaves.sort());
  });

  it('changes when any single field changes', () => {
    fc.assert(
      fc.property(keyInputArb, fc.constantFrom(...MUTATIONS), (input, [, mutate]) => {
        const changed = structuredClone(input);
        mutate(changed);
        expect(takeKey(changed)).not.toBe(takeKey(input));
      }),
      { numRuns: 400 },
    );
  });

  it('does not depend on key order or JSON whitespace', () => {
    fc.assert(
      fc.property(keyInputArb, fc.integer(), fc.constantFrom(0, 1, 2, '\t', '  \n'), (input, seed, indent) => {
        let s = seed;
        const rand = (): number => ((s = (s * 1103515245 + 12345) | 0) >>> 0) / 2 ** 32;
        const reparsed = JSON.parse(JSON.stringify(shuffleKeys(input, rand), null, indent)) as TakeKeyInput;
        expect(takeKey(reparsed)).toBe(takeKey(input));
      }),
      { numRuns: 200 },
    );
  });

  it('is sha256 over a versioned canonical document', () => {
    const input = sampleKeyInput();
    const doc = takeKeyDocument(input);
    expect(doc.startsWith('{"input":{"chunking":{"carryOverSeconds":0,"maxPassChars":400,"splitAt":"sentence"},"contextSha256":null,')).toBe(true);
    expect(doc.endsWith(',"takeKeyVersion":1}')).toBe(true);
    expect(doc).not.toMatch(/\s(?=(?:[^"]*"[^"]*")*[^"]*$)/); // no whitespace outside strings
    expect(takeKey(input)).toBe(createHash('sha256').update(doc, 'utf8').digest('hex'));
  });

  it('rejects inputs that are not a valid TakeKeyInput', () => {
    const bad: Array<[string, unknown]> = [
      ['NaN temperature', { ...sampleKeyInput(), sampling: { ...sampleKeyInput().sampling, temperature: Number.NaN } }],
      ['unknown field', { ...sampleKeyInput(), extra: 1 }],
      ['lone surrogate', sampleKeyInput({ normalizedText: 'bad \uD800 text' })],
      ['empty text', sampleKeyInput({ normalizedText: '' })],
      ['enormous text', sampleKeyInput({ normalizedText: `[S99] ${'a'.repeat(10_001)}` })],
      ['fractional seed', sampleKeyInput({ seed: 1.5 })],
      ['upper-case hash', sampleKeyInput({ voicePromptSha256: 'AB'.repeat(32) })],
    ];
    for (const [name, input] of bad) {
      const err = (() => { try { takeKey(input as TakeKeyInput); } catch (e) { return e; } return null; })();
      expect(err, name).toBeInstanceOf(AppError);
      expect((err as AppError).code, name).toBe('invalid-input');
      expect((err as AppError).message, name).toMatch(/take key input/);
    }
  });

  it('accepts the model text of the longest line the editor lets render, whatever its speaker tag', () => {
    const longest = 'a'.repeat(MAX_LINE_CHARS);
    for (const tag of ['[S1]', '[S99]']) expect(takeKey(sampleKeyInput({ normalizedText: `${tag} ${longest}` }))).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('canonicalJson', () => {
  it('sorts keys, drops undefined, normalises -0 and refuses non-JSON values', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined, d: -0 })).toBe('{"a":[true,null,"x"],"b":1,"d":0}');
    expect(() => canonicalJson({ a: Number.POSITIVE_INFINITY })).toThrow(/\$\.a: Infinity is not a finite number/);
    expect(() => canonicalJson({ a: new Float32Array(1) })).toThrow(/only plain objects/);
    expect(() => canonicalJson({ a: 1n })).toThrow(/bigint/);
  });
});
