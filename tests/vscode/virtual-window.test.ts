import { describe, expect, it } from 'vitest';
import { rowWindow, scrollTopForRow } from '../../vscode-extension/src/shared/virtual-window';

describe('rowWindow', () => {
  it('renders only the visible rows plus overscan in a short list', () => {
    expect(rowWindow({ scrollTop: 0, viewportHeight: 100, rowHeight: 20, rowCount: 1000, overscan: 2 })).toEqual({ first: 0, count: 8, totalHeight: 20_000, top: 0 });
    expect(rowWindow({ scrollTop: 400, viewportHeight: 100, rowHeight: 20, rowCount: 1000, overscan: 2 })).toEqual({ first: 18, count: 10, totalHeight: 20_000, top: 360 });
    expect(rowWindow({ scrollTop: 0, viewportHeight: 100, rowHeight: 20, rowCount: 0 })).toEqual({ first: 0, count: 0, totalHeight: 0, top: 0 });
  });

  it('scales a 1 M-row list into the browser height limit, reaching the first and the last row', () => {
    const geometry = { viewportHeight: 600, rowHeight: 22, rowCount: 1_000_000, overscan: 0, maxHeight: 4_000_000 };
    const top = rowWindow({ ...geometry, scrollTop: 0 });
    expect(top).toMatchObject({ first: 0, totalHeight: 4_000_000, top: 0 });
    expect(top.count).toBeLessThan(40);
    const bottom = rowWindow({ ...geometry, scrollTop: 4_000_000 - 600 });
    expect(bottom.first + bottom.count).toBe(1_000_000);
    // The last row's bottom edge meets the viewport's bottom edge.
    const lastRowBottom = bottom.top + (1_000_000 - bottom.first) * 22;
    expect(lastRowBottom).toBeCloseTo(4_000_000, 3);
    const middle = rowWindow({ ...geometry, scrollTop: (4_000_000 - 600) / 2 });
    expect(Math.abs(middle.first - 500_000)).toBeLessThan(20);
    // Rendered rows always cover the viewport.
    for (const scrollTop of [0, 1, 12_345.6, 1_999_700, 3_999_399]) {
      const window = rowWindow({ ...geometry, scrollTop });
      expect(window.top).toBeLessThanOrEqual(scrollTop + 1e-6);
      expect(window.top + window.count * 22).toBeGreaterThanOrEqual(Math.min(4_000_000, scrollTop + 600) - 1e-6);
    }
  });

  it('finds the scroll position that brings a row to the top', () => {
    const geometry = { viewportHeight: 600, rowHeight: 22, rowCount: 1_000_000, maxHeight: 4_000_000 };
    for (const row of [0, 1, 123_456, 999_000]) {
      expect(rowWindow({ ...geometry, overscan: 0, scrollTop: scrollTopForRow(row, geometry) }).first).toBe(row);
    }
    expect(scrollTopForRow(50, { viewportHeight: 100, rowHeight: 20, rowCount: 1000 })).toBe(1000);
  });
});
