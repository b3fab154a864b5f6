/**
 * The contract between the live pipeline (tailing captures, classifying dialogs) and whatever
 * publishes its labels (the WebSocket/HTTP server, the terminal table of `npm start`). The
 * pipeline implements LabelFeed; publishers only read from it and listen to it.
 */
import { UsageClass } from '../labels';
import { DialogRecord } from '../pipeline/dialog-record';
import { SegmentationGaps } from '../segment/dialog';

/**
 * A dialog record as it is published live: DESIGN.md's dialog record plus a stable identity.
 * The same dialog keeps its `id` through provisional updates, its final label and agent
 * restarts; a later message with the same id replaces the earlier one.
 */
export interface LiveDialog extends DialogRecord {
  readonly id: string;
}

export type CaptureState = 'reading' | 'idle' | 'error' | 'removed';

export interface CaptureInfo {
  /** File name, unique among watched captures; what clients subscribe with. */
  readonly name: string;
  /** Absolute path on the agent's machine. */
  readonly path: string;
  readonly state: CaptureState;
  readonly sizeBytes: number;
  /**
   * Offset the file has been parsed up to: every byte before it analysed. For a capture in error,
   * the error's offset; for a file that ends inside a block, that block's start (bytes of a block
   * not complete yet are fetched, not parsed).
   */
  readonly bytesRead: number;
  readonly packets: number;
  readonly dialogs: number;
  /** Set when state is 'error' (or after a recovered problem): what went wrong and where. */
  readonly error?: string;
  /**
   * Set while the capture needs attention without being stopped by it: the file ends inside a
   * block and has not grown for a while (what is missing and where; gone when the file grows
   * again), or its state journal or its sidecar failed (which file and why; for as long as the
   * agent runs). One text: the file's own warning while there is one, otherwise the journal's and
   * the sidecar's, joined by "; " when both failed.
   */
  readonly warning?: string;
}

/**
 * `watching`: the folder is there and watched. `missing`: it has gone (deleted, moved,
 * unmounted, no longer a folder); the agent looks for it again and watches it when it is back.
 */
export type FolderState = 'watching' | 'missing';

/**
 * What happened to a watched folder. `added`: put on the watch list (command line or a client's
 * `watch`), so that every client's folder list stays current without a new hello. `missing`,
 * `back`: see FolderState. `error`: its watcher reported an error (the folder stays listed).
 */
export type FolderEvent = 'added' | 'missing' | 'back' | 'error';

export interface FolderInfo {
  /** Absolute path of the folder, as first asked for. */
  readonly path: string;
  readonly state: FolderState;
}

export interface ModelInfo {
  readonly name: string;
  readonly classes: readonly UsageClass[];
  readonly gaps: SegmentationGaps;
}

export interface CaptureLag {
  readonly name: string;
  /** Bytes written to the file and not yet analysed. */
  readonly lagBytes: number;
  /** Wall-clock ms since the newest analysed packet was written (0 when caught up). */
  readonly lagMs: number;
}

export interface AgentStats {
  /** Packets analysed per second over the last interval. */
  readonly packetsPerSecond: number;
  readonly packets: number;
  readonly dialogs: number;
  readonly captures: readonly CaptureLag[];
}

export type FeedEvent =
  | {
      readonly kind: 'dialog';
      readonly dialog: LiveDialog;
      /**
       * Set when this final state was published before the agent restarted (restored from the
       * capture's state journal, or re-derived from the file). Clients that subscribed before it
       * came need it; a log of what was published (the terminal) has it already.
       */
      readonly restored?: true;
    }
  | { readonly kind: 'capture'; readonly event: 'added' | 'removed' | 'error' | 'updated' | 'restarted'; readonly capture: CaptureInfo; readonly message?: string }
  /** Something happened to a watched folder (FolderEvent); `message` says what. */
  | { readonly kind: 'folder'; readonly event: FolderEvent; readonly folder: FolderInfo; readonly message: string };

export interface LabelFeed {
  readonly model: ModelInfo;
  captures(): readonly CaptureInfo[];
  /** The folders watched (command line and `watch` requests), missing ones included. */
  folders(): readonly FolderInfo[];
  /** Latest state of every dialog of a capture, in order of first publication; [] if unknown. */
  dialogs(capture: string): readonly LiveDialog[];
  stats(): AgentStats;
  /**
   * Adds a folder to watch (the VS Code "Watch folder in agent" command). Resolves to the path
   * it is watched under: an earlier spelling when the folder was already watched.
   */
  watchFolder(path: string): Promise<string>;
  /** Subscribes to events; returns the unsubscribe function. */
  subscribe(listener: (event: FeedEvent) => void): () => void;
}
