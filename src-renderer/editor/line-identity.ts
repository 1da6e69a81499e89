// What the editor tells the parser about an edit, for stable line ids. The parser matches lines by
// content, which cannot tell identical lines apart; the editor knows the changes, so a speaker tag
// that no change touched stays the same line, wherever the edit moved it. Lines an edit removes
// are remembered for the session, so undo or a cut and paste gives them their ids (and takes) back;
// lines new in the session get ids no other session gives out.
import type { ChangeDesc } from '@codemirror/state';
import { redoneLines, type TextEdit } from '../../src-shared/script/reparse.ts';
import type { LineIdentity, ScriptLine } from '../../src-shared/script/types.ts';

/** Most deleted lines remembered (oldest forgotten first). */
export const MAX_RETIRED_LINES = 20_000;

/**
 * The remembered deleted lines after an edit from `before` to `after`: lines gone from the script
 * are added, lines back in it are dropped. After a reparse this looks at the lines it redid only
 * (`after` is always the reparse of `before`: the editor's parse field makes one from the other).
 */
export function retireLines(retired: readonly LineIdentity[], before: readonly ScriptLine[], after: readonly ScriptLine[]): readonly LineIdentity[] {
  if (before === after) return retired;
  const { removed, added } = redoneLines(after) ?? { removed: before, added: after };
  // Ids are unique and every line outside the redone ones kept its id, so comparing these suffices.
  const now = new Set(added.map((l) => l.id));
  const was = new Set(removed.map((l) => l.id));
  const gone = removed.filter((l) => !now.has(l.id)).map(({ id, speaker, text }) => ({ id, speaker, text }));
  const back = added.some((l) => !was.has(l.id));
  if (gone.length === 0 && !back) return retired;
  // Only a line that appeared can be a remembered one (the remembered lines are never in the script).
  const kept = back ? retired.filter((l) => !now.has(l.id)) : retired;
  const next = gone.length ? [...kept, ...gone] : kept;
  return next.length > MAX_RETIRED_LINES ? next.slice(next.length - MAX_RETIRED_LINES) : next;
}

/**
 * A new editing session's tag for the ids of lines typed in it (ParseOptions.session): random, so
 * a line typed after a reload never gets the id (and takes) of a line deleted in an earlier session.
 */
export function newIdSession(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The changes of an edit, in order. */
export function changedRanges(changes: ChangeDesc): TextEdit[] {
  const out: TextEdit[] = [];
  changes.iterChangedRanges((fromA, toA, fromB, toB) => void out.push({ fromA, toA, fromB, toB }));
  return out;
}
