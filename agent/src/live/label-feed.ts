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
  /** Bytes of the file read and analysed so far. */
  readonly bytesRead: number;
  readonly packets: number;
  readonly dialogs: number;
  /** Set when state is 'error' (or after a recovered problem): what went wrong and where. */
  readonly error?: string;
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
  | { readonly kind: 'capture'; readonly event: 'added' | 'removed' | 'error' | 'updated' | 'restarted'; readonly capture: CaptureInfo; readonly message?: string };

export interface LabelFeed {
  readonly model: ModelInfo;
  captures(): readonly CaptureInfo[];
  /** Latest state of every dialog of a capture, in order of first publication; [] if unknown. */
  dialogs(capture: string): readonly LiveDialog[];
  stats(): AgentStats;
  /** Adds a folder to watch (the VS Code "Watch folder in agent" command). */
  watchFolder(path: string): Promise<void>;
  /** Subscribes to events; returns the unsubscribe function. */
  subscribe(listener: (event: FeedEvent) => void): () => void;
}
