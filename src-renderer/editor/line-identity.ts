// What the editor tells the parser about an edit, for stable line ids. The parser matches lines by
// content, which cannot tell identical lines apart; the editor knows the changes, so a speaker tag
// that no change touched stays the same line, wherever the edit moved it. Lines an edit removes
// are remembered for the session, so undo or a cut and paste gives them their ids (and takes) back.
import type { ChangeDesc } from '@codemirror/state';
import type { TextEdit } from '../../src-shared/script/reparse.ts';
import type { LineIdentity, ScriptLine } from '../../src-shared/script/types.ts';

/** Most deleted lines remembered (oldest forgotten first). */
export const MAX_RETIRED_LINES = 20_000;

/**
 * The remembered deleted lines after an edit from `before` to `after`: lines gone from the script
 * are added, lines back in it are dropped.
 */
export function retireLines(retired: readonly LineIdentity[], before: readonly ScriptLine[], after: readonly ScriptLine[]): readonly LineIdentity[] {
  if (before.length === after.length && before.every((l, i) => l.id === after[i].id)) return retired;
  const now = new Set(after.map((l) => l.id));
  const was = new Set(before.map((l) => l.id));
  const gone = before.filter((l) => !now.has(l.id)).map(({ id, speaker, text }) => ({ id, speaker, text }));
  const back = after.some((l) => !was.has(l.id));
  if (gone.length === 0 && !back) return retired;
  const kept = back ? retired.filter((l) => !now.has(l.id)) : retired;
  const next = gone.length ? [...kept, ...gone] : kept;
  return next.length > MAX_RETIRED_LINES ? next.slice(next.length - MAX_RETIRED_LINES) : next;
}

/** The changes of an edit, in order. */
export function changedRanges(changes: ChangeDesc): TextEdit[] {
  const out: TextEdit[] = [];
  changes.iterChangedRanges((fromA, toA, fromB, toB) => void out.push({ fromA, toA, fromB, toB }));
  return out;
}
