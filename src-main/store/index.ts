// Public entry of the store: the take cache, the project store and their data types.
export { openTakeStore, TakeStore, DEFAULT_MAX_CACHE_BYTES, type TakeStoreOptions } from './take-store.ts';
export { TakeAudioStream } from './take-audio-stream.ts';
export { openProjectStore, ProjectStore, DEFAULT_PROJECT_SETTINGS, type ExportOptions } from './project-store.ts';
export { PROJECT_FILE_EXTENSION } from './project-file.ts';
export { takeKey, canonicalJson, TAKE_KEY_VERSION } from './take-key.ts';
export { voicePromptSha256 } from './voice-prompt.ts';
export type * from './types.ts';
