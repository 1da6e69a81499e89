// Stable line ids. Takes are linked to lines by id, so an id must survive edits elsewhere in the
// script and survive editing the line itself. Given the previous parse (or the lines of a saved
// project), unchanged lines keep their ids, and a line edited in place inherits the id of the line
// it replaced. New lines get an id derived from their content, so parsing is deterministic.
//
// Matching: the common prefix and suffix (same speaker and text) keep their ids; in the changed
// middle, identical lines are matched first, then the remaining lines pair up in order.

import type { LineIdentity } from './types.ts';

export interface IdCandidate {
  speaker: string;
  text: string;
}

function contentKey(line: IdCandidate): string {
  return `${line.speaker}\u0000${line.text}`;
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
function freshId(line: IdCandidate, taken: Set<string>, counters: Map<string, number>): string {
  const base = `l${fnv1a(contentKey(line)).toString(16).padStart(8, '0')}`;
  let n = counters.get(base) ?? 0;
  let id = n === 0 ? base : `${base}-${n}`;
  while (taken.has(id)) id = `${base}-${++n}`;
  counters.set(base, n + 1);
  return id;
}

/**
 * Ids for `lines`, reusing ids of `previous` where lines match. The result has one unique id per
 * line. Previous ids that are duplicated or malformed are ignored rather than trusted.
 */
export function assignLineIds(lines: readonly IdCandidate[], previous: readonly LineIdentity[] = []): string[] {
  const prev = dedupePrevious(previous);
  const ids: (string | undefined)[] = new Array(lines.length).fill(undefined);
  const used = new Set<string>();

  let prefix = 0;
  while (prefix < lines.length && prefix < prev.length && contentKey(lines[prefix]) === contentKey(prev[prefix])) {
    ids[prefix] = prev[prefix].id;
    used.add(prev[prefix].id);
    prefix++;
  }
  let suffix = 0;
  while (
    suffix < lines.length - prefix &&
    suffix < prev.length - prefix &&
    contentKey(lines[lines.length - 1 - suffix]) === contentKey(prev[prev.length - 1 - suffix])
  ) {
    const id = prev[prev.length - 1 - suffix].id;
    ids[lines.length - 1 - suffix] = id;
    used.add(id);
    suffix++;
  }

  const prevMiddle = prev.slice(prefix, prev.length - suffix);
  const byContent = new Map<string, { ids: string[]; next: number }>();
  for (const p of prevMiddle) {
    const queue = byContent.get(contentKey(p));
    if (queue) queue.ids.push(p.id);
    else byContent.set(contentKey(p), { ids: [p.id], next: 0 });
  }
  const middleEnd = lines.length - suffix;
  for (let i = prefix; i < middleEnd; i++) {
    const queue = byContent.get(contentKey(lines[i]));
    if (queue && queue.next < queue.ids.length) {
      const id = queue.ids[queue.next++];
      ids[i] = id;
      used.add(id);
    }
  }
  // Lines edited in place: pair the leftovers in order.
  const leftovers = prevMiddle.filter((p) => !used.has(p.id)).map((p) => p.id);
  let next = 0;
  for (let i = prefix; i < middleEnd && next < leftovers.length; i++) {
    if (ids[i] !== undefined) continue;
    ids[i] = leftovers[next++];
    used.add(ids[i] as string);
  }
  const counters = new Map<string, number>();
  return ids.map((id, i) => {
    if (id !== undefined) return id;
    const fresh = freshId(lines[i], used, counters);
    used.add(fresh);
    return fresh;
  });
}

const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

function dedupePrevious(previous: readonly LineIdentity[]): LineIdentity[] {
  const seen = new Set<string>();
  const out: LineIdentity[] = [];
  for (const p of previous) {
    if (!ID_PATTERN.test(p.id) || seen.has(p.id)) continue;
    seen.add(p.id);
    out.push(p);
  }
  return out;
}
