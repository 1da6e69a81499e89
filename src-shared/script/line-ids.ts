// Stable line ids. Takes are linked to lines by id, so an id must survive edits elsewhere in the
// script and survive editing the line itself. Given the previous parse (or the lines of a saved
// project), unchanged lines keep their ids, and a line edited in place inherits the id of the line
// it replaced. New lines get an id derived from their content (and the editing session, when
// given), so parsing is deterministic.
//
// Matching: ids the caller pins (the editor knows which speaker tags an edit left in place) come
// first. Among the other lines, the common prefix and suffix (same speaker and text) keep their
// ids; in the changed middle, identical lines are matched first, then the remaining lines pair up
// in order. Lines still without an id take back a retired id of the same speaker and text (a line
// deleted earlier and restored by undo or paste), else get a fresh one that no retired line had.

import type { LineIdentity } from './types.ts';

export interface IdCandidate {
  speaker: string;
  text: string;
}

export interface IdHints {
  /** Ids already known by position (same length as the lines; undefined where not known). */
  pinned?: readonly (string | undefined)[];
  /** Lines deleted earlier, most recent last: an unmatched line of the same speaker and text takes its id back. */
  retired?: readonly LineIdentity[];
  /** Ids held by lines not passed in (a reparse of part of a script): never given out. */
  taken?: (id: string) => boolean;
  /**
   * The editing session (letters and digits, up to 16), made part of fresh ids: takes are filed by
   * line id, and deleted lines keep theirs, so a line typed in a later session must not get the id a
   * line with the same words had in an earlier one (it would list that line's takes as its own).
   */
  session?: string;
}

function contentKey(line: IdCandidate): string {
  return `${line.speaker}\u0000${line.text}`;
}

function sameContent(a: IdCandidate, b: IdCandidate): boolean {
  return a.speaker === b.speaker && a.text === b.text;
}

/** FNV-1a (32 bit) over UTF-16 code units: cheap, deterministic, good enough to spread ids. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * An id for a line that has none yet: "l" + content hash, with a counter when taken. `counters`
 * remembers where each base's counter stopped, so many identical lines stay linear.
 */
function freshId(line: IdCandidate, session: string, taken: (id: string) => boolean, counters: Map<string, number>): string {
  const base = `l${fnv1a(contentKey(line)).toString(16).padStart(8, '0')}${session && `_${session}`}`;
  let n = counters.get(base) ?? 0;
  let id = n === 0 ? base : `${base}-${n}`;
  while (taken(id)) id = `${base}-${++n}`;
  counters.set(base, n + 1);
  return id;
}

/** Content matching of `lines` against `prev` (prefix, suffix, identical lines, then in order). */
function matchByContent(lines: readonly IdCandidate[], prev: readonly LineIdentity[], used: Set<string>): (string | undefined)[] {
  const ids: (string | undefined)[] = new Array(lines.length).fill(undefined);
  const claim = (i: number, id: string): void => {
    ids[i] = id;
    used.add(id);
  };
  let prefix = 0;
  while (prefix < lines.length && prefix < prev.length && sameContent(lines[prefix], prev[prefix])) {
    claim(prefix, prev[prefix].id);
    prefix++;
  }
  let suffix = 0;
  while (suffix < lines.length - prefix && suffix < prev.length - prefix && sameContent(lines[lines.length - 1 - suffix], prev[prev.length - 1 - suffix])) {
    claim(lines.length - 1 - suffix, prev[prev.length - 1 - suffix].id);
    suffix++;
  }
  const middleEnd = lines.length - suffix;
  if (prefix === middleEnd) return ids;
  const prevMiddle = prev.slice(prefix, prev.length - suffix);
  const byContent = new Map<string, { ids: string[]; next: number }>();
  for (const p of prevMiddle) {
    const queue = byContent.get(contentKey(p));
    if (queue) queue.ids.push(p.id);
    else byContent.set(contentKey(p), { ids: [p.id], next: 0 });
  }
  for (let i = prefix; i < middleEnd; i++) {
    const queue = byContent.get(contentKey(lines[i]));
    if (queue && queue.next < queue.ids.length) claim(i, queue.ids[queue.next++]);
  }
  // Lines edited in place: pair the leftovers in order.
  const leftovers = prevMiddle.filter((p) => !used.has(p.id)).map((p) => p.id);
  let next = 0;
  for (let i = prefix; i < middleEnd && next < leftovers.length; i++) if (ids[i] === undefined) claim(i, leftovers[next++]);
  return ids;
}

/**
 * Ids for `lines`, reusing ids of `previous` where lines match. The result has one unique id per
 * line. Previous, pinned and retired ids that are duplicated or malformed are ignored rather than trusted.
 */
export function assignLineIds(lines: readonly IdCandidate[], previous: readonly LineIdentity[] = [], hints: IdHints = {}): string[] {
  const ids: (string | undefined)[] = new Array(lines.length).fill(undefined);
  const used = new Set<string>();
  // Other lines' ids matter only to ids given out from outside `previous` (fresh or retired ones).
  const elsewhere = hints.taken;
  const taken = (id: string): boolean => used.has(id) || (elsewhere?.(id) ?? false);
  const pinned = hints.pinned ?? [];
  for (let i = 0; i < lines.length; i++) {
    const id = pinned[i];
    if (id === undefined || !ID_PATTERN.test(id) || used.has(id)) continue;
    ids[i] = id;
    used.add(id);
  }
  const prev = dedupePrevious(previous, used);
  const open: number[] = [];
  for (let i = 0; i < lines.length; i++) if (ids[i] === undefined) open.push(i);
  const matched = matchByContent(open.map((i) => lines[i]), prev, used);
  open.forEach((line, k) => (ids[line] = matched[k]));
  if (hints.retired?.length && ids.includes(undefined)) takeBackRetired(lines, ids, hints.retired, used, taken);
  const counters = new Map<string, number>();
  const session = hints.session?.replace(/[^A-Za-z0-9]/g, '').slice(0, 16) ?? '';
  // A fresh id is never a retired one: takes are filed by id, so a new line would list a deleted
  // line's takes (and the deleted line, restored, could not get its id back).
  let retiredIds: Set<string> | undefined;
  const freshTaken = (id: string): boolean => taken(id) || (retiredIds ??= new Set(hints.retired?.map((r) => r.id))).has(id);
  return ids.map((id, i) => {
    if (id !== undefined) return id;
    const fresh = freshId(lines[i], session, freshTaken, counters);
    used.add(fresh);
    return fresh;
  });
}

/**
 * Gives lines still without an id the most recently retired ids of the same speaker and text;
 * several such lines take them in the order they were retired (an undone deletion of a block).
 */
function takeBackRetired(
  lines: readonly IdCandidate[], ids: (string | undefined)[], retired: readonly LineIdentity[], used: Set<string>, taken: (id: string) => boolean,
): void {
  const waiting = new Map<string, number[]>();
  for (let i = 0; i < lines.length; i++) {
    if (ids[i] !== undefined) continue;
    const key = contentKey(lines[i]);
    const list = waiting.get(key);
    if (list) list.push(i);
    else waiting.set(key, [i]);
  }
  const byContent = new Map<string, string[]>();
  for (const r of retired) {
    const key = contentKey(r);
    if (!waiting.has(key) || !ID_PATTERN.test(r.id) || taken(r.id)) continue;
    const list = byContent.get(key);
    if (list) list.push(r.id);
    else byContent.set(key, [r.id]);
  }
  for (const [key, list] of byContent) {
    const unique = [...new Set(list.reverse())].reverse(); // an id retired twice counts where it was retired last
    const lineIndices = waiting.get(key) as number[];
    const take = unique.slice(Math.max(0, unique.length - lineIndices.length));
    take.forEach((id, k) => {
      ids[lineIndices[k]] = id;
      used.add(id);
    });
  }
}

const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Previous lines with a valid id that is not taken yet (`taken`: ids already given out). */
function dedupePrevious(previous: readonly LineIdentity[], taken: ReadonlySet<string>): LineIdentity[] {
  const seen = new Set<string>();
  const out: LineIdentity[] = [];
  for (const p of previous) {
    if (!ID_PATTERN.test(p.id) || seen.has(p.id) || taken.has(p.id)) continue;
    seen.add(p.id);
    out.push(p);
  }
  return out;
}
