// Which rows of the line list are drawn. A script of thousands of lines would otherwise keep
// thousands of table rows up to date (and laid out) on every keystroke; past DRAW_ALL_UP_TO lines
// only the rows in view and a margin around them are drawn, between two spacers. Rows keep the
// height they were measured at; rows not drawn yet count as ROW_ESTIMATE_PX.

/** Scripts up to this many lines draw every row. */
export const DRAW_ALL_UP_TO = 200;
export const ROW_ESTIMATE_PX = 30;
/** Drawn beyond each edge of the view, so scrolling shows rows already there. */
const MARGIN_PX = 800;

/** Top of each row and, last, the height of them all. */
export function rowOffsets(lines: readonly { id: string }[], heights: ReadonlyMap<string, number>): Float64Array {
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
