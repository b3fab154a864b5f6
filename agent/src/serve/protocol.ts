/**
 * The agent's WebSocket protocol, version 1 (docs/protocol.md explains it with examples).
 * Every message is one JSON object in one text frame, with `v` (protocol version) and `type`.
 *
 * Server → client: hello (on connect), snapshot (reply to subscribe), dialog (new or updated),
 * capture (added, removed, error, updated, restarted), folder (a watched folder added, missing,
 * back, or its watcher in error),
 * stats (about once a second), error (reply to a bad
 * message; the connection stays open unless the error says otherwise).
 * Client → server: subscribe, unsubscribe, watch, ping.
 */
import { AgentStats, CaptureInfo, FolderEvent, FolderInfo, LiveDialog, ModelInfo } from '../live/label-feed';

export const PROTOCOL_VERSION = 1;
export const DEFAULT_PORT = 7345;
export const DEFAULT_HOST = '127.0.0.1';

export interface HelloMessage {
  readonly v: 1;
  readonly type: 'hello';
  readonly agent: string;
  readonly protocol: 1;
  readonly model: ModelInfo;
  readonly captures: readonly CaptureInfo[];
  /** The watched folders and whether each is there (`missing`: gone, watched again when back). */
  readonly folders: readonly FolderInfo[];
  /** True when addresses in everything served are anonymised (a key given with --anonymize or --anonymize-key-file, or an agent bound beyond loopback). */
  readonly anonymized: boolean;
}

export interface SnapshotMessage {
  readonly v: 1;
  readonly type: 'snapshot';
  /** The captures this snapshot covers (the subscription). */
  readonly captures: readonly string[];
  readonly dialogs: readonly LiveDialog[];
}

export interface DialogMessage {
  readonly v: 1;
  readonly type: 'dialog';
  readonly dialog: LiveDialog;
}

export interface CaptureMessage {
  readonly v: 1;
  readonly type: 'capture';
  /** `restarted`: read again from the start (truncated, replaced, written over): its earlier dialogs no longer hold. */
  readonly event: 'added' | 'removed' | 'error' | 'updated' | 'restarted';
  readonly capture: CaptureInfo;
  readonly message?: string;
}

/**
 * A watched folder was added to the watch list (`added`), went missing (`missing`), is there
 * again and watched again (`back`), or its watcher failed (`error`). Later versions may add
 * events and states: clients take `folder` as the folder's entry as it is now and ignore values
 * they do not know (docs/protocol.md, Versioning).
 */
export interface FolderMessage {
  readonly v: 1;
  readonly type: 'folder';
  readonly event: FolderEvent;
  readonly folder: FolderInfo;
  readonly message: string;
}

export interface StatsMessage extends AgentStats {
  readonly v: 1;
  readonly type: 'stats';
}

export type ErrorCode =
  | 'BAD_JSON'
  | 'BAD_MESSAGE'
  /** `v` is not a version this agent speaks (the message names the supported one). */
  | 'UNSUPPORTED_VERSION'
  | 'UNKNOWN_TYPE'
  | 'UNKNOWN_CAPTURE'
  | 'TOO_LARGE'
  | 'RATE_LIMITED'
  | 'WATCH_FAILED'
  | 'SLOW_CONSUMER';

export interface ErrorMessage {
  readonly v: 1;
  readonly type: 'error';
  readonly code: ErrorCode;
  readonly message: string;
}

export interface PongMessage {
  readonly v: 1;
  readonly type: 'pong';
  readonly id?: string | number;
}

export type ServerMessage = HelloMessage | SnapshotMessage | DialogMessage | CaptureMessage | FolderMessage | StatsMessage | ErrorMessage | PongMessage;

/** Subscribe to captures by name ("*" = every capture, present and future). Answered by a snapshot. */
export interface SubscribeMessage {
  readonly v: 1;
  readonly type: 'subscribe';
  readonly captures: readonly string[] | '*';
}

export interface UnsubscribeMessage {
  readonly v: 1;
  readonly type: 'unsubscribe';
}

/** Ask the agent to watch another folder (absolute path on the agent's machine). */
export interface WatchMessage {
  readonly v: 1;
  readonly type: 'watch';
  readonly path: string;
}

export interface PingMessage {
  readonly v: 1;
  readonly type: 'ping';
  readonly id?: string | number;
}

export type ClientMessage = SubscribeMessage | UnsubscribeMessage | WatchMessage | PingMessage;
