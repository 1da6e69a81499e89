// Messages between the app (main process / harness server) and the engine host process
// (Electron utilityProcess or a Node worker thread). Both ends come from the same build, but the
// host can crash or be replaced, so every message is checked on arrival (cheap structural checks,
// no deep copies) and malformed ones are rejected with a clear error instead of being trusted.
import * as v from 'valibot';
import type { AppErrorData } from '../../../src-shared/errors.ts';

export const SamplingSchema = v.object({
  guidanceScale: v.pipe(v.number(), v.minValue(0), v.maxValue(20)),
  temperature: v.pipe(v.number(), v.minValue(0), v.maxValue(5)),
  topP: v.pipe(v.number(), v.gtValue(0), v.maxValue(1)),
  topK: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1028)),
  order: v.picklist(['0626', 'v1']),
  seed: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0xffffffff)),
  maxTokens: v.pipe(v.number(), v.integer(), v.minValue(16), v.maxValue(3072)),
});
export type HostSampling = v.InferOutput<typeof SamplingSchema>;

const Int32ArraySchema = v.custom<Int32Array>((x) => x instanceof Int32Array, 'must be an Int32Array');
const Float32ArraySchema = v.custom<Float32Array>((x) => x instanceof Float32Array, 'must be a Float32Array');

const CodesSchema = v.object({
  frames: v.pipe(v.number(), v.integer(), v.minValue(0)),
  /** Undelayed frames, row-major [frames, 9], values 0..1023. */
  data: Int32ArraySchema,
});

export const RenderJobSchema = v.object({
  jobId: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  /** Normalised text of one pass (tags kept, e.g. "[S1] Hello."), at most the model window. */
  text: v.pipe(v.string(), v.minLength(1), v.maxLength(8192)),
  sampling: SamplingSchema,
  /** Audio-prompt frames prefilled before generation (voice prompt and/or previous line). */
  prompt: v.optional(v.object({ codes: CodesSchema, transcript: v.string() })),
  /** Frames of each streamed chunk after the first; the first is kept small for low latency. */
  chunkFrames: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1024))),
});
export type RenderJob = v.InferOutput<typeof RenderJobSchema>;

export interface EngineStatusData {
  modelId: string;
  modelName: string;
  flavour: '0626' | 'v1';
  precision: 'fp32' | 'fp16' | 'int4';
  device: string;
  executionProvider: string;
  /** Rows sampled per decoder run (1: JS sampler; more: in-graph sampling). */
  stepsPerRun: number;
  /** The self-attention cache stays on the device between decoder runs (runtime/resident-kv.ts). */
  cacheOnDevice: boolean;
  fallbackMessage?: string;
  isDemo: boolean;
}

export interface RenderMetricsData {
  /** Wall time from job start to the first audio chunk leaving the host. */
  ttfaMs: number;
  totalMs: number;
  audioSeconds: number;
  /** Real-time factor = generation time / audio duration (lower is better; < 1 is faster than real time). */
  rtf: number;
  steps: number;
  stepsPerSecond: number;
  /** Time inside session.run for the decoder, to report engine overhead. */
  decoderRunMs: number;
}

/** The host's reply to a render request, once the pass has ended. */
export interface RenderOutcome {
  /** Generated frames (undelayed, [frames, 9]) so a take can be re-decoded or carried as context. */
  codes: Int32Array;
  frames: number;
  sampleRate: number;
  cancelled: boolean;
  /** The pass ran to "Longest pass" (its row budget) before the model ended it: the audio stops mid-way. */
  cut: boolean;
}

export const DEVICE_CHOICES = ['cpu', 'cuda', 'dml', 'coreml', 'webgpu', 'auto'] as const;
export type DeviceChoice = (typeof DEVICE_CHOICES)[number];

export type EnginePrecision = 'fp32' | 'fp16' | 'int4';

export type HostRequest =
  | { kind: 'load'; requestId: number; modelDir: string; device: DeviceChoice; precision?: EnginePrecision }
  | { kind: 'render'; requestId: number; job: RenderJob }
  | { kind: 'cancel'; requestId: number; jobId: string }
  | { kind: 'encode-voice'; requestId: number; samples: Float32Array; sampleRate: number }
  | { kind: 'status'; requestId: number }
  | { kind: 'shutdown'; requestId: number };

export type HostEvent =
  | { kind: 'reply'; requestId: number; ok: true; value: unknown }
  | { kind: 'reply'; requestId: number; ok: false; error: AppErrorData }
  | { kind: 'progress'; jobId: string; step: number; frames: number; maxSteps: number }
  | { kind: 'audio'; jobId: string; seq: number; sampleRate: number; samples: Float32Array }
  | { kind: 'metrics'; jobId: string; metrics: RenderMetricsData }
  | { kind: 'log'; level: 'info' | 'warn' | 'error'; message: string };

const HostRequestSchema = v.variant('kind', [
  v.object({ kind: v.literal('load'), requestId: v.number(), modelDir: v.string(), device: v.picklist(DEVICE_CHOICES), precision: v.optional(v.picklist(['fp32', 'fp16', 'int4'])) }),
  v.object({ kind: v.literal('render'), requestId: v.number(), job: RenderJobSchema }),
  v.object({ kind: v.literal('cancel'), requestId: v.number(), jobId: v.string() }),
  v.object({ kind: v.literal('encode-voice'), requestId: v.number(), samples: Float32ArraySchema, sampleRate: v.pipe(v.number(), v.integer(), v.minValue(8000), v.maxValue(192000)) }),
  v.object({ kind: v.literal('status'), requestId: v.number() }),
  v.object({ kind: v.literal('shutdown'), requestId: v.number() }),
]);

const HostEventSchema = v.variant('kind', [
  v.object({ kind: v.literal('reply'), requestId: v.number(), ok: v.boolean(), value: v.optional(v.unknown()), error: v.optional(v.object({ code: v.string(), message: v.string() })) }),
  v.object({ kind: v.literal('progress'), jobId: v.string(), step: v.number(), frames: v.number(), maxSteps: v.number() }),
  v.object({ kind: v.literal('audio'), jobId: v.string(), seq: v.number(), sampleRate: v.number(), samples: Float32ArraySchema }),
  v.object({ kind: v.literal('metrics'), jobId: v.string(), metrics: v.record(v.string(), v.number()) }),
  v.object({ kind: v.literal('log'), level: v.picklist(['info', 'warn', 'error']), message: v.string() }),
]);

export function parseHostRequest(msg: unknown): HostRequest {
  const r = v.safeParse(HostRequestSchema, msg);
  if (!r.success) throw new Error(`Malformed engine request: ${v.summarize(r.issues)}`);
  return r.output as HostRequest;
}

export function parseHostEvent(msg: unknown): HostEvent {
  const r = v.safeParse(HostEventSchema, msg);
  if (!r.success) throw new Error(`Malformed engine event: ${v.summarize(r.issues)}`);
  return r.output as HostEvent;
}
