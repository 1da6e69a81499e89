// Public entry of the script parser.
export { parseScript, isRenderable, type ParseOptions } from './parse-script.ts';
export { assignLineIds } from './line-ids.ts';
export { KNOWN_NON_VERBAL_TAGS, MODEL_TEXT_WINDOW, isKnownNonVerbal } from './tags.ts';
export type * from './types.ts';
