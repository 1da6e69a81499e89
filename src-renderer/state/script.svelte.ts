// The script being edited and its latest parse (the editor parses; this module holds the result
// for the line list and the speakers panel). The draft is kept in localStorage so a reload does
// not lose it before projects are saved.
import type { ParsedScript } from '../../src-shared/script/types.ts';

const DRAFT_KEY = 'dia-studio:draft-script';
const SAVE_DELAY_MS = 400;

const EMPTY: ParsedScript = { lines: [], diagnostics: [], preamble: null, speakers: [] };

class ScriptState {
  text = $state('');
  /** Replaced on every parse, never mutated: raw state skips deep proxies over many lines. */
  parsed = $state.raw<ParsedScript>(EMPTY);
  selectedLineId = $state<string | null>(null);
  /** Counts selections, of the line already selected too: each one shows the line again. */
  selections = $state(0);
}

export const script = new ScriptState();

let saveTimer: ReturnType<typeof setTimeout> | undefined;

export function loadDraft(): string {
  try {
    return localStorage.getItem(DRAFT_KEY) ?? '';
  } catch {
    return '';
  }
}

export function setParsedScript(text: string, parsed: ParsedScript): void {
  script.text = text;
  script.parsed = parsed;
  if (script.selectedLineId && !parsed.lines.some((l) => l.id === script.selectedLineId)) script.selectedLineId = null;
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => {
    try {
      localStorage.setItem(DRAFT_KEY, text);
    } catch {
      // Storage full or disabled: the draft just is not kept.
    }
  }, SAVE_DELAY_MS);
}

export function selectLine(id: string | null): void {
  script.selectedLineId = id;
  script.selections++;
}
