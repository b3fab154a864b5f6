/**
 * The capture editor's sort, as the webview chooses it and the host receives it: which column
 * and which way. Clicking a column header cycles as in Wireshark's packet list: ascending,
 * descending, then back to the file's order (no column sorts). No DOM and no vscode: the
 * webview (main.ts) draws it, the host (packet-order.ts) applies it, the tests call both.
 */

/** The packet list's columns, in the order they are shown (No., Time, Source, …). */
export const PACKET_COLUMNS = ['number', 'time', 'source', 'destination', 'transport', 'length', 'usage'] as const;
export type PacketColumn = (typeof PACKET_COLUMNS)[number];

export const PACKET_COLUMN_TITLES: Readonly<Record<PacketColumn, string>> = {
  number: 'No.',
  time: 'Time',
  source: 'Source',
  destination: 'Destination',
  transport: 'Transport',
  length: 'Length',
  usage: 'Usage',
};

export interface PacketSort {
  readonly column: PacketColumn;
  readonly descending: boolean;
}

/**
 * A header clicked: another column sorts ascending, the sorting column turns descending, and a
 * descending one goes back to the file's order (undefined).
 */
export function nextPacketSort(current: PacketSort | undefined, column: PacketColumn): PacketSort | undefined {
  if (current?.column !== column) return { column, descending: false };
  return current.descending ? undefined : { column, descending: true };
}

/** Whether the list is in the file's order: no sort, or No. ascending. */
export function inFileOrder(sort: PacketSort | undefined): boolean {
  return sort === undefined || (sort.column === 'number' && !sort.descending);
}

/** The header's aria-sort for a column (and the arrow drawn beside its title). */
export function ariaSort(sort: PacketSort | undefined, column: PacketColumn): 'ascending' | 'descending' | 'none' {
  if (sort?.column !== column) return 'none';
  return sort.descending ? 'descending' : 'ascending';
}
