// Which rows of the line list are drawn. A script of thousands of lines would otherwise keep
// thousands of table rows up to date (and laid out) on every keystroke; past DRAW_ALL_UP_TO lines
// only the rows in view and a margin around them are drawn, between two spacers. Rows keep the
// height they were measured at, for as long as the list keeps its width; rows not drawn yet count
// as the mean of those measured.

/** Scripts up to this many lines draw every row. */
export const DRAW_ALL_UP_TO = 200;
export const ROW_ESTIMATE_PX = 30;
/** Drawn beyond each edge of the view, so scrolling shows rows already there. */
const MARGIN_PX = 800;

/** Row heights as measured, for the width the rows were laid out at. */
export class RowHeights {
  readonly #byId = new Map<string, number>();
  #sum = 0;
  #width = 0;

  /** Rows wrap anew at another width (a resize, a zoom): what was measured at the old one is dropped. */
  setWidth(width: number): boolean {
    if (width === this.#width) return false;
    this.#width = width;
    this.#byId.clear();
    this.#sum = 0;
    return true;
  }

  /** Whether the height is new. */
  set(id: string, height: number): boolean {
    const old = this.#byId.get(id);
    if (old === height) return false;
    this.#byId.set(id, height);
    this.#sum += height - (old ?? 0);
    return true;
  }

  /** Its measured height, else the mean of those measured: a script's rows are much alike. */
  get(id: string): number {
    return this.#byId.get(id) ?? this.#mean();
  }

  /**
   * rowOffsets of `lines` by these heights, dropping those of lines no longer among them (deleted):
   * a script edited for hours would otherwise keep every line it ever had until the width changes,
   * and count them in the mean. Fewer of `lines` measured than heights kept tells on the way, so
   * only a change of the lines costs more passes (to drop them, then to reckon without them).
   */
  offsets(lines: readonly { id: string }[]): Float64Array {
    const mean = this.#mean();
    let measured = 0;
    const out = rowOffsets(lines, {
      get: (id) => {
        const height = this.#byId.get(id);
        if (height === undefined) return mean;
        measured++;
        return height;
      },
    });
    if (measured >= this.#byId.size) return out;
    const live = new Set(lines.map((l) => l.id));
    for (const [id, height] of this.#byId) {
      if (live.has(id)) continue;
      this.#byId.delete(id);
      this.#sum -= height;
    }
    return rowOffsets(lines, this); // every height kept is now one of theirs
  }

  #mean(): number {
    return this.#byId.size ? this.#sum / this.#byId.size : ROW_ESTIMATE_PX;
  }
}

/** Top of each row and, last, the height of them all. */
export function rowOffsets(lines: readonly { id: string }[], heights: { get(id: string): number | undefined }): Float64Array {
  const out = new Float64Array(lines.length + 1);
  for (let i = 0; i < lines.length; i++) out[i + 1] = out[i] + (heights.get(lines[i].id) ?? ROW_ESTIMATE_PX);
  return out;
}

/** First index whose offset is above `y`. */
function firstAbove(offsets: Float64Array, y: number): number {
  let lo = 0;
  let hi = offsets.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offsets[mid] <= y) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Rows [start, end) to draw for a view `height` high, scrolled `top` down the list. */
export function rowWindow(offsets: Float64Array, top: number, height: number): { start: number; end: number } {
  const count = offsets.length - 1;
  if (count <= DRAW_ALL_UP_TO) return { start: 0, end: count };
  const start = Math.min(count, Math.max(0, firstAbove(offsets, top - MARGIN_PX) - 1));
  const end = Math.max(start, Math.min(count, firstAbove(offsets, top + height + MARGIN_PX)));
  return { start, end };
}

/**
 * How far to scroll a view showing [viewTop, viewBottom) so that it shows a row at [top, bottom):
 * 0 when it is in view, or is taller than the view and fills it; else the least move, which for
 * a row taller than the view brings its top to the view's top.
 */
export function scrollToShow(top: number, bottom: number, viewTop: number, viewBottom: number): number {
  const tall = bottom - top > viewBottom - viewTop;
  if (tall ? top <= viewTop && bottom >= viewBottom : top >= viewTop && bottom <= viewBottom) return 0;
  return top < viewTop || tall ? top - viewTop : bottom - viewBottom;
}
