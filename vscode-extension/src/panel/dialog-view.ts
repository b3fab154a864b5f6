/** Filtering, searching and sorting the dialogs table: pure functions over validated dialogs. */
import type { UsageVerdict } from '../../../agent/src/labels';
import type { PanelDialog } from '../shared/protocol-guard';
import { formatEndpoint } from '../shared/format';

export const SORT_KEYS = ['time', 'flow', 'usage', 'confidence', 'status'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface SortOrder {
  readonly key: SortKey;
  readonly descending: boolean;
}

export interface DialogFilter {
  /** Usages to show; empty shows every usage. */
  readonly usages: ReadonlySet<UsageVerdict>;
  /** Part of an address or "address:port", either endpoint; case-insensitive. Empty matches all. */
  readonly search: string;
}

export const DEFAULT_SORT: SortOrder = { key: 'time', descending: false };

/** True when a search text matches one of the dialog's endpoints. */
export function matchesAddress(dialog: PanelDialog, search: string): boolean {
  const needle = search.trim().toLowerCase();
  if (needle === '') return true;
  for (const endpoint of [dialog.client, dialog.server]) {
    const ip = endpoint.ip.toLowerCase();
    if (ip.includes(needle)) return true;
    if (`${ip}:${endpoint.port}`.includes(needle)) return true;
    if (formatEndpoint(ip, endpoint.port).includes(needle)) return true;
  }
  return false;
}

export function filterDialogs(dialogs: readonly PanelDialog[], filter: DialogFilter): PanelDialog[] {
  return dialogs.filter((dialog) => (filter.usages.size === 0 || filter.usages.has(dialog.usage)) && matchesAddress(dialog, filter.search));
}

function flowSortKey(dialog: PanelDialog): string {
  return `${dialog.client.ip}\u0000${String(dialog.client.port).padStart(5, '0')}\u0000${dialog.server.ip}\u0000${String(dialog.server.port).padStart(5, '0')}\u0000${dialog.l4}`;
}

const STATUS_RANK = { provisional: 0, final: 1 } as const;

function compareBy(key: SortKey): (a: PanelDialog, b: PanelDialog) => number {
  switch (key) {
    case 'time':
      return (a, b) => a.startUs - b.startUs;
    case 'flow':
      return (a, b) => {
        const x = flowSortKey(a);
        const y = flowSortKey(b);
        return x < y ? -1 : x > y ? 1 : 0;
      };
    case 'usage':
      return (a, b) => (a.usage < b.usage ? -1 : a.usage > b.usage ? 1 : 0);
    case 'confidence':
      return (a, b) => a.confidence - b.confidence;
    case 'status':
      return (a, b) => STATUS_RANK[a.status] - STATUS_RANK[b.status];
  }
}

/** A new array in the requested order; ties keep time order, then dialog id, whatever the direction. */
export function sortDialogs(dialogs: readonly PanelDialog[], order: SortOrder): PanelDialog[] {
  const primary = compareBy(order.key);
  const sign = order.descending ? -1 : 1;
  return [...dialogs].sort((a, b) => sign * primary(a, b) || a.startUs - b.startUs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Clicking a column header: a new column sorts ascending (confidence: highest first); the same column flips. */
export function nextSort(current: SortOrder, key: SortKey): SortOrder {
  if (current.key === key) return { key, descending: !current.descending };
  return { key, descending: key === 'confidence' };
}
