/**
 * The packet list's keyboard moves and what a new reading of the file leaves of the selection.
 * No DOM: the webview (main.ts) applies them, the tests call them.
 */

/**
 * The row a key moves to. With no visible selection (none, or hidden by the filter) the list is
 * entered: ArrowDown, PageDown and Home go to the first row, ArrowUp, PageUp and End to the last.
 */
export function keyTargetRow(key: string, selectedRow: number, total: number, page: number): number | undefined {
  const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, Home: -total, End: total };
  const move = moves[key];
  if (move === undefined || total <= 0) return undefined;
  if (key === 'Home') return 0;
  if (key === 'End') return total - 1;
  if (selectedRow < 0 || selectedRow >= total) return move > 0 ? 0 : total - 1;
  return Math.max(0, Math.min(total - 1, selectedRow + move));
}

/** After a file was read again: a selected packet past its new end is no longer selected. */
export function selectionAfterReread(selectedPacket: number, selectedRow: number, packets: number): { readonly packet: number; readonly row: number } {
  if (selectedPacket >= packets || (selectedPacket < 0 && selectedRow >= packets)) return { packet: -1, row: -1 };
  return { packet: selectedPacket, row: selectedRow };
}

/** The details pane when the selected packet is not in the filtered list. */
export function hiddenSelectionText(packet: number): string {
  return `Packet ${(packet + 1).toLocaleString('en')} is selected but hidden by the usage filter`;
}

/** The list under a filter that shows no packet. */
export const NO_MATCH_TEXT = 'No packet matches the filter';
