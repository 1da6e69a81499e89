// Render settings every new project starts from, shared by the engine (reference defaults) and the
// renderer (the settings panel's "Reset to defaults").

/** nari-labs `generate()` and the transformers generation config (dia-model.md §3.6). */
export const REFERENCE_SAMPLING = Object.freeze({ guidanceScale: 3.0, temperature: 1.2, topP: 0.95, topK: 45, maxTokens: 3072 });

/** Passes short enough that Dia does not speed up (its README: more than ~20 s of text per pass sounds unnaturally fast). */
export const DEFAULT_CHUNKING = Object.freeze({ maxPassChars: 320, splitAt: 'sentence' as const, carryOverSeconds: 5 });

/** Audio frames (decoder steps) per second: 44.1 kHz over the DAC hop of 512 samples. */
export const DIA_FRAMES_PER_SECOND = 44_100 / 512;
