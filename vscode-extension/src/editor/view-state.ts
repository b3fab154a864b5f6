/**
 * What a capture editor keeps across a reload of its webview (a window reload, "Reload
 * Webviews", VS Code restarting with the editor open): the usage filter, the sort and the
 * selected packet, as an editor keeps its cursor. VS Code stores it with the webview (setState/getState); it
 * comes back from storage written by this or an older version, so it is read defensively and
 * anything unexpected is dropped rather than trusted. No DOM: main.ts applies it, the tests
 * call it.
 */
import { USAGE_CHOICES, UsageChoice } from '../shared/packet-filter';
import { PACKET_COLUMNS, PacketColumn, PacketSort } from '../shared/packet-sort';

export interface EditorViewState {
  readonly usages: readonly UsageChoice[];
  /** Index of the selected packet in the file; -1: none. */
  readonly packet: number;
  /** The column the list sorts by, and which way; absent: the file's order. */
  readonly sort?: PacketSort;
}

// Still 1 with the sort added: a state stored before it had none, and is the file's order.
const VERSION = 1;
const CHOICES: ReadonlySet<string> = new Set(USAGE_CHOICES);
const COLUMNS: ReadonlySet<string> = new Set(PACKET_COLUMNS);
const isColumn = (value: unknown): value is PacketColumn => typeof value === 'string' && COLUMNS.has(value);

export function storedViewState(state: EditorViewState): unknown {
  return { version: VERSION, usages: [...state.usages], packet: state.packet, ...(state.sort ? { sort: { column: state.sort.column, descending: state.sort.descending } } : {}) };
}

/** A stored sort, or undefined (the file's order) for anything but a known column and a direction. */
function restoredSort(stored: unknown): PacketSort | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined;
  const { column, descending } = stored as Record<string, unknown>;
  return isColumn(column) && typeof descending === 'boolean' ? { column, descending } : undefined;
}

/** The state a webview stored, or undefined when there is none it can use. */
export function restoredViewState(stored: unknown): EditorViewState | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined;
  const { version, usages, packet, sort } = stored as Record<string, unknown>;
  if (version !== VERSION) return undefined;
  const kept = Array.isArray(usages) ? [...new Set(usages.filter((usage): usage is UsageChoice => typeof usage === 'string' && CHOICES.has(usage)))] : [];
  const selected = typeof packet === 'number' && Number.isSafeInteger(packet) && packet >= 0 ? packet : -1;
  const order = restoredSort(sort);
  return { usages: kept, packet: selected, ...(order ? { sort: order } : {}) };
}

/**
 * What to restore in a capture of `packets` packets: a selection past its end (the file was cut
 * or replaced meanwhile) is dropped, the filter and sort are kept.
 */
export function viewStateFor(state: EditorViewState, packets: number): EditorViewState {
  return state.packet < packets ? state : { ...state, packet: -1 };
}
