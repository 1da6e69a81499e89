// Wire format of the browser harness WebSocket. Calls, replies and events without audio are JSON
// text frames. Events that carry audio (`samples`, a Float32Array) are binary frames, so audio is
// sent as raw float32 instead of JSON number arrays (4 bytes a sample instead of ~20):
//
//   0   4 bytes  magic "DSA1"
//   4   uint32   header length H (little-endian)
//   8   H bytes  UTF-8 JSON: the event without `samples`, plus "sampleCount": N
//   ..  0-3 zero bytes, so the samples start 4-byte aligned
//   ..  N float32 little-endian samples
//
// Everything decoded here is still untrusted: the caller validates the event against its schema.
import * as v from 'valibot';
import { AppError } from '../errors.ts';

export const BINARY_MAGIC = 0x31415344; // "DSA1" read as a little-endian uint32
/** Longest JSON header accepted in a binary frame. */
const MAX_HEADER_BYTES = 64 * 1024;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export type ClientMessage = { t: 'call'; id: number; method: string; params?: unknown };
export type ServerMessage =
  | { t: 'reply'; id: number; envelope: unknown }
  | { t: 'event'; event: unknown };

const ClientMessageSchema = v.strictObject({
  t: v.literal('call'),
  id: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER)),
  method: v.pipe(v.string(), v.maxLength(64)),
  params: v.optional(v.unknown()),
});

const ServerMessageSchema = v.variant('t', [
  v.strictObject({ t: v.literal('reply'), id: v.pipe(v.number(), v.integer(), v.minValue(0)), envelope: v.unknown() }),
  v.strictObject({ t: v.literal('event'), event: v.unknown() }),
]);

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError('invalid-input', `${what} is not valid JSON`);
  }
}

export function encodeClientMessage(msg: ClientMessage): string {
  return JSON.stringify(msg);
}

/** Server side: a text frame from a client. Binary frames from clients are not part of the protocol. */
export function decodeClientMessage(text: string): ClientMessage {
  const r = v.safeParse(ClientMessageSchema, parseJson(text, 'WebSocket message'));
  if (!r.success) throw new AppError('invalid-input', 'WebSocket message is not a call {t:"call", id, method, params}');
  return r.output as ClientMessage;
}

/** Server side: replies and audio-free events as text; events with `samples` as one binary frame. */
export function encodeServerMessage(msg: ServerMessage): string | Uint8Array {
  if (msg.t === 'event' && typeof msg.event === 'object' && msg.event !== null && (msg.event as { samples?: unknown }).samples instanceof Float32Array) {
    const { samples, ...rest } = msg.event as { samples: Float32Array };
    return encodeAudioFrame(rest, samples);
  }
  return JSON.stringify(msg);
}

function encodeAudioFrame(header: object, samples: Float32Array): Uint8Array {
  const headerBytes = utf8.encode(JSON.stringify({ ...header, sampleCount: samples.length }));
  const start = align4(8 + headerBytes.length);
  const out = new Uint8Array(start + samples.length * 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, BINARY_MAGIC, true);
  view.setUint32(4, headerBytes.length, true);
  out.set(headerBytes, 8);
  if (LITTLE_ENDIAN) out.set(new Uint8Array(samples.buffer, samples.byteOffset, samples.length * 4), start);
  else for (let i = 0; i < samples.length; i++) view.setFloat32(start + i * 4, samples[i], true);
  return out;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** Client side: a text frame. */
export function decodeServerText(text: string): ServerMessage {
  const r = v.safeParse(ServerMessageSchema, parseJson(text, 'Server message'));
  if (!r.success) throw new AppError('internal', 'Server message is neither a reply nor an event');
  return r.output as ServerMessage;
}

/** Client side: a binary frame, back to an event object with `samples` as a Float32Array. */
export function decodeServerBinary(data: ArrayBuffer | ArrayBufferView): ServerMessage {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const bad = (why: string): AppError => new AppError('internal', `Malformed audio frame from the server: ${why}`);
  if (bytes.length < 8) throw bad('shorter than its 8-byte prefix');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== BINARY_MAGIC) throw bad('wrong magic number');
  const headerLength = view.getUint32(4, true);
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > bytes.length) throw bad(`header length ${headerLength} does not fit the frame`);
  let header: unknown;
  try {
    header = JSON.parse(utf8Decoder.decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    throw bad('header is not UTF-8 JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw bad('header is not an object');
  const { sampleCount, ...event } = header as { sampleCount?: unknown };
  const start = align4(8 + headerLength);
  if (typeof sampleCount !== 'number' || !Number.isInteger(sampleCount) || sampleCount < 0) throw bad('sampleCount is missing');
  if (start + sampleCount * 4 !== bytes.length) throw bad(`${bytes.length - start} sample bytes for ${sampleCount} samples`);
  const samples = new Float32Array(sampleCount);
  if (LITTLE_ENDIAN) new Uint8Array(samples.buffer).set(bytes.subarray(start, start + sampleCount * 4));
  else for (let i = 0; i < sampleCount; i++) samples[i] = view.getFloat32(start + i * 4, true);
  return { t: 'event', event: { ...event, samples } };
}
