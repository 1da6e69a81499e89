// Size limits of a script and of what one render or export takes. The parser turns the render
// limits into error diagnostics instead of leaving them to the API validators, so anything the
// editor holds can still be saved; only rendering waits until the script is split up.

/** Longest editor text (the API rejects longer scripts outright). */
export const MAX_SCRIPT_CHARS = 1_000_000;
/** Longest spoken text of one line a render accepts (the engine splits it into passes). */
export const MAX_LINE_CHARS = 10_000;
/** Most lines of one script that render and export; lines past it are errors. */
export const MAX_LINES = 20_000;
/** Most lines a script within MAX_SCRIPT_CHARS can parse into: each starts with a 4-character tag. */
export const MAX_PARSED_LINES = MAX_SCRIPT_CHARS / 4;
