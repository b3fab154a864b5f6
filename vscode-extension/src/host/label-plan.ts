/**
 * The capture editor's decisions about a file that went away, came back or was read again, and
 * about the labels it keeps meanwhile. No vscode, no fs: capture-editor.ts and capture-document.ts
 * apply them, the tests call them.
 */
import { dirname } from 'node:path';
import type { LabelSource } from '../shared/bridge';
import type { LabelAssignment } from './label-match';
import type { LocalClassification } from './local-classify';

/** The part of fs.Stats the follower looks at. */
export interface FollowStats {
  readonly size: number;
  readonly ino: number;
  readonly nlink: number;
}

/** watchFile's stat of a file that is not there. */
export function isMissingStat(stats: FollowStats): boolean {
  return stats.nlink === 0 && stats.size === 0 && stats.ino === 0;
}

/**
 * What a stat change means: the file went ('deleted'), or is to be read on ('more') or from the
 * start ('again'); `restored` when it was missing before (its local labels, if any, are
 * computed again: a classification that ran meanwhile read nothing).
 */
export type FollowAction = { readonly kind: 'deleted' } | { readonly kind: 'read'; readonly read: 'more' | 'again'; readonly restored: boolean };

export function followAction(current: FollowStats, previous: FollowStats, knownSize: number): FollowAction {
  if (isMissingStat(current)) return { kind: 'deleted' };
  const restored = isMissingStat(previous);
  const replaced = previous.ino !== 0 && current.ino !== previous.ino;
  return { kind: 'read', read: replaced || current.size < knownSize ? 'again' : 'more', restored };
}

/**
 * Whether a local classification may be kept for the file: not when the file was missing while
 * it ran, nor when its read failed before the first packet (a file gone or unreadable, not a
 * capture read up to a fault). Such a result, cached, would be shown for good.
 */
export function cacheableLocal(result: Pick<LocalClassification, 'error' | 'records' | 'packetsRead'>, fileMissing: boolean): boolean {
  if (fileMissing) return false;
  return result.error === undefined || (result.packetsRead ?? 0) > 0 || result.records.length > 0;
}

/**
 * The label line while the file is missing: the labels last shown stay, said to be of a file
 * deleted; without any, that it is missing. Never offers to watch its folder.
 */
export function missingFileSource(previous: LabelSource, hasLabels: boolean): LabelSource {
  if (previous.fileMissing) return previous;
  if (hasLabels && (previous.kind === 'agent' || previous.kind === 'local')) {
    return { ...previous, detail: `${previous.detail} · the file was deleted or moved away: showing what was read`, fileMissing: true };
  }
  return { kind: 'none', detail: 'the file is missing (deleted or moved away)', dialogs: 0, labelledPackets: 0, agentLabels: previous.agentLabels, fileMissing: true };
}

/** Whether the agent already watches the folder a capture is in (a local agent: paths compare). */
export function folderWatched(folders: readonly { readonly path: string }[], capturePath: string): boolean {
  const folder = stripSlash(dirname(capturePath));
  return folders.some((watched) => stripSlash(watched.path) === folder);
}

function stripSlash(path: string): string {
  return path.length > 1 ? path.replace(/[\\/]+$/, '') : path;
}

/** What a document holds of a file's labels and selection. */
export interface FileLabelState {
  local: LocalClassification | undefined;
  localStale: boolean;
  generation: number;
  assignment: LabelAssignment | undefined;
  dialogs: readonly unknown[];
  selectedPacket: number;
}

/**
 * A file read again from the start (replaced, truncated, rewritten in place): nothing computed
 * for the old one describes the new one — labels, the dialogs they came from, a selection past
 * its end.
 */
export function forgetOldFile(state: FileLabelState, packets: number): void {
  state.generation++;
  state.local = undefined;
  state.localStale = false;
  state.assignment = undefined;
  state.dialogs = [];
  if (state.selectedPacket >= packets) state.selectedPacket = -1;
}
