// Pure data types of the take cache and the project store. Everything here is JSON-serialisable
// (audio travels separately as Float32Array) so the renderer can mirror these shapes as they are.
import type { ExportLayout } from '../../src-shared/api/projects.ts';

/** Sampler settings of one take (Dia CFG + temperature + top-k/top-p; see dia-model.md §3.6). */
export interface SamplingParams {
  /** Classifier-free guidance scale (Dia's cfg_scale). */
  guidanceScale: number;
  temperature: number;
  topP: number;
  /** Top-k used as Dia's cfg_filter_top_k. */
  topK: number;
  /** Which sampler order the model flavour uses. */
  order: '0626' | 'v1';
  /** Upper bound on decoder steps per pass. */
  maxTokens: number;
}

/** How a long line is split into model passes; each choice changes the audio. */
export interface ChunkingParams {
  /** Longest text, in characters, sent to the model in one pass. */
  maxPassChars: number;
  /** Where a long line may be split. */
  splitAt: 'sentence' | 'clause';
  /** Seconds of the previous pass's audio fed into the next pass as prompt. */
  carryOverSeconds: number;
}

/** The model that renders a take: identity, exact weights and the numerics it ran with. */
export interface TakeModelRef {
  id: string;
  /** sha256 (hex) over the weights the engine loaded. */
  weightsSha256: string;
  precision: 'fp32' | 'fp16' | 'int4';
  /** Execution-provider class whose kernels shape the numbers, e.g. "cpu", "cuda", "webgpu". */
  deviceClass: string;
}

/** Everything that changes a take's audio; the take key is a hash of exactly this. */
export interface TakeKeyInput {
  model: TakeModelRef;
  /** The exact text the tokenizer sees (after the script normaliser), tags included. */
  normalizedText: string;
  /** Speaker the line is spoken by (script tag or speaker id). */
  speaker: string;
  /** sha256 of the speaker's voice prompt (clip + transcript), or null without one. */
  voicePromptSha256: string | null;
  /** sha256 of the context carried over from the previous line, or null without one. */
  contextSha256: string | null;
  seed: number;
  sampling: SamplingParams;
  chunking: ChunkingParams;
}

/** Ties a take to a script line. The text keeps takes findable if the line id is lost. */
export interface LineRef {
  projectId: string;
  /** Stable id (uuid) the editor keeps for each script line. */
  lineId: string;
  text: string;
}

/** What the engine measured while rendering; the store derives the rest from the audio. */
export interface TakeMetricsInput {
  /** Wall time of the whole generation. */
  generationMs: number;
  /** Time from request to the first audio chunk. */
  ttfaMs: number;
  /** Decoder steps run. */
  steps: number;
  /**
   * A pass ran to "Longest pass" before the model ended it, so the audio stops mid-way. Absent:
   * false (takes from before it was recorded, project files that do not carry it).
   */
  cut?: boolean;
}

export interface TakeMetrics extends TakeMetricsInput {
  cut: boolean;
  durationSeconds: number;
  /** Real-time factor = generation time / audio duration (below 1 is faster than real time). */
  rtf: number;
  stepsPerSecond: number;
}

export interface NewTake {
  keyInput: TakeKeyInput;
  line: LineRef;
  /** Mono float samples in [-1, 1]. Stored as 24-bit FLAC (see store README). */
  audio: Float32Array;
  sampleRate: number;
  metrics: TakeMetricsInput;
}

export interface TakeRecord {
  id: number;
  key: string;
  seed: number;
  /** The full key input: model, text, speaker, prompts, seed and every parameter. */
  input: TakeKeyInput;
  sampleRate: number;
  sampleCount: number;
  metrics: TakeMetrics;
  /** Milliseconds since the Unix epoch. */
  createdAt: number;
  lastUsedAt: number;
  /** Size of the stored FLAC stream. */
  flacBytes: number;
}

/** A take as seen from one line. */
export interface LineTake extends TakeRecord {
  /** The line's choice for the words and speaker this take says (a line has one per voicing). */
  chosen: boolean;
  /** The line wording the take was rendered for. */
  lineText: string;
}

export interface ClearOptions {
  /** Also delete the takes each line chose last (kept otherwise). Default false. */
  includeChosen?: boolean;
}

export interface ClearResult {
  removed: number;
  /** The audio of the takes removed. */
  freedBytes: number;
}

export interface EvictionResult {
  evictedTakes: number;
  freedBytes: number;
}

/** Set when an unreadable or corrupt cache file was moved aside and a fresh one started. */
export interface StoreRecovery {
  /** Ready to show the user: what happened, where the old file went, what it means. */
  message: string;
  reason: string;
  /** Where the damaged file now lives (its -wal/-shm beside it with the same prefix). */
  movedAsideTo: string;
  at: number;
}

export interface TakeStoreStats {
  path: string;
  takeCount: number;
  /** Takes that are a line's latest choice: kept whatever the size limit. */
  chosenCount: number;
  /** Sum of stored FLAC streams: what the size limit counts. */
  audioBytes: number;
  /** The part of audioBytes that the chosenCount takes hold: neither the limit nor clear() frees it. */
  pinnedBytes: number;
  /** Database + WAL size on disk. */
  fileBytes: number;
  maxBytes: number;
  recovery: StoreRecovery | null;
}

export interface AudioStreamInfo {
  takeId: number;
  sampleRate: number;
  sampleCount: number;
}

// ---------------------------------------------------------------- projects

export interface VoicePromptRef {
  /** sha256 over the 24-bit PCM, sample rate and transcript: what the take key refers to. */
  sha256: string;
  transcript: string;
  sampleRate: number;
  sampleCount: number;
}

export interface VoicePromptClip {
  samples: Float32Array;
  sampleRate: number;
  transcript: string;
}

export interface Speaker {
  id: string;
  name: string;
  /** CSS hex colour, "#rrggbb". */
  color: string;
  voicePrompt: VoicePromptRef | null;
}

/** The chosen take of a line as project data: enough to find it again or re-render it exactly. */
export interface ChosenTakeRef {
  key: string;
  input: TakeKeyInput;
}

export interface ScriptLine {
  id: string;
  speakerId: string | null;
  text: string;
  chosenTake: ChosenTakeRef | null;
}

export interface ProjectSettings {
  /** Model for new takes, or null for the app default. */
  modelId: string | null;
  sampling: SamplingParams;
  chunking: ChunkingParams;
  /** Seed for new takes; null draws a fresh seed per take. */
  seed: number | null;
  /** Feed the previous line's audio into the next line as context. */
  carryContext: boolean;
  /** Per-line timing and speaker pans for exports. */
  exportLayout?: ExportLayout;
}

export interface Project {
  id: string;
  name: string;
  createdAt: number;
  updatedAt: number;
  /** The editor text as typed. */
  script: string;
  settings: ProjectSettings;
  speakers: Speaker[];
  lines: ScriptLine[];
}

export interface ProjectSummary {
  id: string;
  name: string;
  createdAt: number;
  updatedAt: number;
  lineCount: number;
  speakerCount: number;
}

export type ExportTakes = 'chosen' | 'all' | 'none';

export interface ProjectExportResult {
  path: string;
  bytes: number;
  voicePrompts: number;
  takes: number;
  /**
   * Lines whose chosen take was left out: the take cache no longer had it, or its audio failed
   * verification (they must be re-rendered after import).
   */
  missingTakes: number;
  /** Takes (chosen or not) left out because their cached audio failed verification. */
  damagedTakes: number;
}

export interface ProjectImportResult {
  project: Project;
  voicePrompts: number;
  takes: number;
  /** Takes left out because their audio in the file is missing or damaged (their lines keep the chosen take's inputs). */
  damagedTakes: number;
  /** True when the file's project id was already taken and the import got a new id. */
  renamedId: boolean;
}
