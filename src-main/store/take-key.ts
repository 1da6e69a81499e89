// The take key: sha256 over a canonical JSON encoding of a validated TakeKeyInput. Canonical
// means object keys sorted by UTF-16 code units, no whitespace, numbers in ECMAScript's shortest
// round-trip form (the JCS / RFC 8785 rules for the values we allow), so the same inputs give the
// same key however the object was built, and any change to any field gives a new key.
import { createHash } from 'node:crypto';
import { AppError } from '../../src-shared/errors.ts';
import type { TakeKeyInput } from './types.ts';
import { parseInput, TakeKeyInputSchema } from './validate.ts';

/**
 * Bump when the meaning of a key input changes (a new field, a changed normaliser contract).
 * It is hashed into every key, so old cache entries simply stop matching.
 */
export const TAKE_KEY_VERSION = 1;

export const TAKE_KEY_PATTERN = /^[0-9a-f]{64}$/;

export function canonicalJson(value: unknown): string {
  return encode(value, '$');
}

function encode(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new AppError('invalid-input', `Cannot hash ${path}: ${value} is not a finite number`);
      return JSON.stringify(value); // -0 becomes "0", as JCS requires
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((item, i) => encode(item, `${path}[${i}]`)).join(',')}]`;
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new AppError('invalid-input', `Cannot hash ${path}: only plain objects, arrays and JSON scalars are allowed`);
      }
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, item]) => item !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, item]) => `${JSON.stringify(k)}:${encode(item, `${path}.${k}`)}`).join(',')}}`;
    }
    default:
      throw new AppError('invalid-input', `Cannot hash ${path}: a ${typeof value} is not JSON data`);
  }
}

/** Validates a key input and returns it as a fresh object holding only the known fields. */
export function normalizeTakeKeyInput(input: unknown): TakeKeyInput {
  return parseInput(TakeKeyInputSchema, input, 'take key input');
}

/** The canonical document that is hashed: the version travels inside it. */
export function takeKeyDocument(input: TakeKeyInput): string {
  return canonicalJson({ takeKeyVersion: TAKE_KEY_VERSION, input: normalizeTakeKeyInput(input) });
}

export function takeKey(input: TakeKeyInput): string {
  return createHash('sha256').update(takeKeyDocument(input), 'utf8').digest('hex');
}

export function assertTakeKey(key: unknown): string {
  if (typeof key !== 'string' || !TAKE_KEY_PATTERN.test(key)) {
    throw new AppError('invalid-input', `Invalid take key ${JSON.stringify(String(key)).slice(0, 80)}: expected 64 lowercase hex characters`);
  }
  return key;
}
