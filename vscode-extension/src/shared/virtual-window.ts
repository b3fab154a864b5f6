/**
 * Which rows of a long list to render: only those in (or near) the viewport. Browsers cap an
 * element's height (about 33 M px in Chromium, less elsewhere), so beyond `maxHeight` the
 * scroll range is scaled: the scrollbar maps proportionally onto rows and the rendered rows are
 * placed at the viewport. A 1 M-packet capture at 22 px a row needs this.
 */
export interface WindowInput {
  readonly scrollTop: number;
  readonly viewportHeight: number;
  readonly rowHeight: number;
  readonly rowCount: number;
  /** Extra rows above and below the viewport. */
  readonly overscan?: number;
  readonly maxHeight?: number;
}

export interface RowWindow {
  /** First row to render. */
  readonly first: number;
  /** Rows to render from `first`. */
  readonly count: number;
  /** Height of the scrolled content. */
  readonly totalHeight: number;
  /** Offset of row `first` from the top of the scrolled content. */
  readonly top: number;
}

export const DEFAULT_MAX_HEIGHT = 4_000_000;

export function rowWindow(input: WindowInput): RowWindow {
  const { rowHeight, rowCount } = input;
  const viewportHeight = Math.max(0, input.viewportHeight);
  const overscan = input.overscan ?? 8;
  const maxHeight = input.maxHeight ?? DEFAULT_MAX_HEIGHT;
  const natural = rowCount * rowHeight;
  const visibleRows = Math.ceil(viewportHeight / rowHeight) + 1;
  if (rowCount === 0) return { first: 0, count: 0, totalHeight: 0, top: 0 };
  if (natural <= maxHeight) {
    const scrollTop = clamp(input.scrollTop, 0, Math.max(0, natural - viewportHeight));
    const firstVisible = Math.floor(scrollTop / rowHeight);
    const first = Math.max(0, firstVisible - overscan);
    const end = Math.min(rowCount, firstVisible + visibleRows + overscan);
    return { first, count: end - first, totalHeight: natural, top: first * rowHeight };
  }
  const scrollable = maxHeight - viewportHeight;
  const scrollTop = clamp(input.scrollTop, 0, scrollable);
  const rowsScrollable = Math.max(0, rowCount - viewportHeight / rowHeight);
  const exactRow = scrollable > 0 ? (scrollTop / scrollable) * rowsScrollable : 0;
  const firstVisible = Math.min(rowCount - 1, Math.floor(exactRow));
  const first = Math.max(0, firstVisible - overscan);
  const end = Math.min(rowCount, firstVisible + visibleRows + overscan);
  // Row `firstVisible` sits where the fraction of it already scrolled past puts it.
  const top = scrollTop - (exactRow - firstVisible) * rowHeight - (firstVisible - first) * rowHeight;
  return { first, count: end - first, totalHeight: maxHeight, top };
}

/** The scrollTop that shows `row` at the top of the viewport (or as near as the range allows). */
export function scrollTopForRow(row: number, input: Omit<WindowInput, 'scrollTop'>): number {
  const { rowHeight, rowCount } = input;
  const maxHeight = input.maxHeight ?? DEFAULT_MAX_HEIGHT;
  const natural = rowCount * rowHeight;
  if (natural <= maxHeight) return clamp(row * rowHeight, 0, Math.max(0, natural - input.viewportHeight));
  const scrollable = maxHeight - input.viewportHeight;
  const rowsScrollable = Math.max(1e-9, rowCount - input.viewportHeight / rowHeight);
  return clamp((row / rowsScrollable) * scrollable, 0, scrollable);
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
