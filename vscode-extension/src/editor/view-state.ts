/**
 * What a capture editor keeps across a reload of its webview (a window reload, "Reload
 * Webviews", VS Code restarting with the editor open): the usage filter and the selected packet,
 * as an editor keeps its cursor. VS Code stores it with the webview (setState/getState); it
 * comes back from storage written by this or an older version, so it is read defensively and
 * anything unexpected is dropped rather than trusted. No DOM: main.ts applies it, the tests
 * call it.
 */
import { USAGE_CHOICES, UsageChoice } from '../shared/packet-filter';

export interface EditorViewState {
  readonly usages: readonly UsageChoice[];
  /** Index of the selected packet in the file; -1: none. */
  readonly packet: number;
}

const VERSION = 1;
const CHOICES: ReadonlySet<string> = new Set(USAGE_CHOICES);

export function storedViewState(state: EditorViewState): unknown {
  return { version: VERSION, usages: [...state.usages], packet: state.packet };
}

/** The state a webview stored, or undefined when there is none it can use. */
export function restoredViewState(stored: unknown): EditorViewState | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined;
  const { version, usages, packet } = stored as Record<string, unknown>;
  if (version !== VERSION) return undefined;
  const kept = Array.isArray(usages) ? [...new Set(usages.filter((usage): usage is UsageChoice => typeof usage === 'string' && CHOICES.has(usage)))] : [];
  const selected = typeof packet === 'number' && Number.isSafeInteger(packet) && packet >= 0 ? packet : -1;
  return { usages: kept, packet: selected };
}

/**
 * What to restore in a capture of `packets` packets: a selection past its end (the file was cut
 * or replaced meanwhile) is dropped, the filter is kept.
 */
export function viewStateFor(state: EditorViewState, packets: number): EditorViewState {
  return state.packet < packets ? state : { ...state, packet: -1 };
}
