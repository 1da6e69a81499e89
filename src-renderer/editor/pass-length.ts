// Lines the project's "Characters per pass" setting splits into several passes. The parser only
// knows the model's window (1024 bytes); renders split a line at the project's (smaller) pass
// length, and the voice may shift between passes, so the editor warns of those lines too.
import type { ParsedScript, TextRange } from '../../src-shared/script/types.ts';

export interface PassLengthWarning extends TextRange {
  message: string;
}

/** One warning per line whose model text is longer than `maxPassChars` (and not flagged as too long already). */
export function passLengthWarnings(parsed: ParsedScript, maxPassChars: number | null): PassLengthWarning[] {
  if (maxPassChars === null) return [];
  const out: PassLengthWarning[] = [];
  for (const line of parsed.lines) {
    if (line.bytes <= maxPassChars || line.diagnostics.some((d) => d.code === 'line-too-long')) continue;
    out.push({
      from: line.textRange.from,
      to: line.textRange.to,
      message: `Line is ${line.bytes} bytes, over this project's ${maxPassChars} characters per pass (Settings): it will be rendered in several passes and the voice may shift between them`,
    });
  }
  return out;
}
