// The take in use of a line, one rule for the app core, the project line, exports and the studio:
// the line's chosen take when it was rendered from the line's words for the line's speaker;
// otherwise the newest of its takes that was; otherwise none. A line edited in place keeps its id
// (and its takes), but a take of other words or another speaker is not its audio.

/** What a take must have been rendered from to be a line's audio: its wording and its speaker. */
export interface LineVoicing {
  text: string;
  speaker: string;
}

/** The same words for the same speaker. */
export function sameVoicing(a: LineVoicing, b: LineVoicing): boolean {
  return a.text === b.text && a.speaker === b.speaker;
}

export interface TakeRule<T> {
  /** The words and speaker the take was rendered from. */
  voicingOf(take: T): LineVoicing;
  /** Whether the line chose it (the take cache's flag, or the project line's choice for exports). */
  isChosen(take: T): boolean;
  /** How the takes are listed: the app core lists them oldest first, the studio newest first. */
  order: 'oldest-first' | 'newest-first';
}

export function takeInUse<T>(takesOfLine: readonly T[], line: LineVoicing, rule: TakeRule<T>): T | undefined {
  const fits = (t: T): boolean => sameVoicing(rule.voicingOf(t), line);
  const chosen = takesOfLine.find((t) => rule.isChosen(t) && fits(t));
  if (chosen) return chosen;
  return rule.order === 'newest-first' ? takesOfLine.find(fits) : takesOfLine.findLast(fits);
}
