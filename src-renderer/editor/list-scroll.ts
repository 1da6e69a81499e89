// The line list's scroll bookkeeping, apart from the DOM it is read from: which row is in view,
// whether the list is at its end, where to scroll so that a row shows, and where to scroll so that
// what is in view stays put when rows get new heights (row-window.ts draws by estimated heights
// until rows are measured, so every new measure moves the rows below the ones measured), and
// which scrolls are the user's own (they stop the list following Play all).
import { scrollToShow } from './row-window.ts';

/** The list's scroller as laid out: tops and bottoms of its drawn rows are below its top edge. */
export interface ListView {
  top: number;
  clientHeight: number;
  scrollHeight: number;
  /** The sticky header's height: rows under it are not in view. */
  header: number;
  rows: readonly { id: string; top: number; bottom: number }[];
}

/** The first drawn row in view: its place among those drawn, its id, how far below the header. */
export function firstInView(view: ListView): { k: number; id: string; offset: number } | null {
  for (let k = 0; k < view.rows.length; k++) {
    const row = view.rows[k];
    if (row.bottom <= view.header) continue;
    return row.top < view.clientHeight ? { k, id: row.id, offset: row.top - view.header } : null;
  }
  return null;
}

/** The scroll position nearest `view.top` that shows the row at [top, bottom) of the scrolled content. */
export function topShowing(top: number, bottom: number, view: Pick<ListView, 'top' | 'header' | 'clientHeight'>): number {
  return view.top + scrollToShow(top, bottom, view.top + view.header, view.top + view.clientHeight);
}

export class ListScroll {
  // The first row in view and how far it is below the header, as last scrolled to: new heights
  // (a row above grew, rows drawn for the first time) keep it where it is. None at the top, where
  // the list stays at the top, so that a line added above the first shows.
  #anchor: { id: string; offset: number } | null = null;
  #atEnd = false;
  /** Where kept() last sent the list, to keep the anchor: not a place the user chose. */
  #keeping: number | null = null;
  /** The anchor is a row shown on purpose (showed()): it stays wholly in view. */
  #shown = false;

  /** The user (or the list) scrolled: what is in view now is what new heights keep in view. */
  scrolled(view: ListView): void {
    this.#atEnd = view.top > 0 && view.top + view.clientHeight >= view.scrollHeight - 2;
    // The list's own scroll to keep the anchor lands on a whole pixel: read back, the anchor would
    // drift by that rounding at every new measure.
    const keeping = this.#keeping;
    this.#keeping = null;
    if (this.#anchor && keeping !== null && Math.abs(view.top - keeping) < 1) return;
    this.#shown = false;
    const first = view.top > 0 ? firstInView(view) : null;
    this.#anchor = first && { id: first.id, offset: first.offset };
  }

  /**
   * The list scrolled to `top` to show row `id`, `offset` below the header (a line selected): new
   * heights keep that row where it shows, not the first row in view, which would push a row shown
   * at the bottom edge out of view as the rows above it are measured.
   */
  showed(id: string, offset: number, top: number): void {
    this.#anchor = { id, offset };
    this.#keeping = top;
    this.#shown = true;
  }

  /** Another list (another project): nothing of the last one's place is kept. */
  reset(): void {
    this.#anchor = null;
    this.#atEnd = false;
    this.#keeping = null;
    this.#shown = false;
  }

  /**
   * Where to scroll once rows have new heights, so that what is in view stays put: the row last
   * scrolled to where it was, else the first row in view where it is; at the end, the end (`end`:
   * scroll to the very end once drawn). `view` is as laid out with the old heights, its first row
   * being line `start`; `offsets` are the row tops (and, last, the height of all) by the new heights.
   * Null when no row is in view.
   */
  kept(view: ListView, start: number, offsets: Float64Array): { top: number; end: boolean } | null {
    if (this.#atEnd) return { top: Math.max(0, view.header + offsets[offsets.length - 1] - view.clientHeight), end: true };
    const anchor = this.#anchor;
    const k = anchor ? view.rows.findIndex((r) => r.id === anchor.id) : -1;
    const first = anchor && k >= 0 ? { k, offset: anchor.offset } : firstInView(view);
    if (!first) return null;
    let top = Math.max(0, offsets[start + first.k] - first.offset);
    // A row shown on purpose whose own height grew stays wholly in view (its top, if taller than it).
    if (this.#shown && anchor && k >= 0) top = Math.min(offsets[start + k], Math.max(top, offsets[start + k + 1] - (view.clientHeight - view.header)));
    if (anchor && k >= 0) this.#keeping = top;
    return { top, end: false };
  }
}

const SCROLL_KEYS = new Set(['ArrowUp', 'ArrowDown', 'PageUp', 'PageDown', 'Home', 'End']);

type InputEvent = { type: string; target: unknown } & Partial<Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey'>>;

/**
 * Whether `event` on the list's scroller `el` is the user scrolling it (the wheel, a touch, the
 * keys, a press on its scrollbar, which lands on the scroller itself), as the list's own scrolls
 * are not. Space on a row's button presses the button instead; a list with nothing to scroll is not scrolled.
 */
export function scrollsByHand(event: InputEvent, el: Pick<HTMLElement, 'scrollHeight' | 'clientHeight'>): boolean {
  if (el.scrollHeight <= el.clientHeight) return false;
  if (event.type === 'keydown') return !event.ctrlKey && !event.metaKey && !event.altKey && (SCROLL_KEYS.has(event.key ?? '') || (event.key === ' ' && event.target === el));
  if (event.type === 'pointerdown') return event.target === el;
  // Ctrl+wheel (and a trackpad pinch) zooms the page rather than scrolling the list.
  return (event.type === 'wheel' && !event.ctrlKey) || event.type === 'touchmove';
}

/** Reads the list's scroller as laid out now. */
export function readView(el: HTMLElement): ListView {
  const edge = el.getBoundingClientRect().top;
  const rows = Array.from(el.querySelectorAll<HTMLElement>('tr[data-line-id]'), (row) => {
    const box = row.getBoundingClientRect();
    return { id: row.dataset.lineId ?? '', top: box.top - edge, bottom: box.bottom - edge };
  });
  const header = el.querySelector('thead')?.offsetHeight ?? 0;
  return { top: el.scrollTop, clientHeight: el.clientHeight, scrollHeight: el.scrollHeight, header, rows };
}
