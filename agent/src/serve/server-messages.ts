/**
 * Builds the server's protocol messages as JSON text, with addresses anonymised when the
 * redactor is active. A message for many clients is serialised once and the same string is
 * sent to (and queued for) each of them.
 */
import { AgentStats, CaptureInfo, FeedEvent, FolderInfo, LabelFeed, LiveDialog } from '../live/label-feed';
import { AddressRedactor } from './address-redactor';
import {
  CaptureMessage,
  DialogMessage,
  ErrorCode,
  ErrorMessage,
  FolderMessage,
  HelloMessage,
  PongMessage,
  PROTOCOL_VERSION,
  SnapshotMessage,
  StatsMessage,
} from './protocol';

/** Most distinct capture sets whose snapshot text is kept at once (beyond it the cache starts over). */
const SNAPSHOT_CACHE_ENTRIES = 16;

export class MessageEncoder {
  /**
   * Snapshot texts by capture set, valid until the feed next changes (feedChanged()): many
   * clients subscribing to the same captures (a reconnecting crowd, a client repeating
   * `subscribe`) share one serialisation of what may be megabytes.
   */
  private readonly snapshotCache = new Map<string, string>();

  constructor(
    private readonly feed: LabelFeed,
    private readonly redactor: AddressRedactor,
    private readonly agentVersion: string,
  ) {}

  hello(): string {
    const message: HelloMessage = {
      v: PROTOCOL_VERSION,
      type: 'hello',
      agent: this.agentVersion,
      protocol: PROTOCOL_VERSION,
      model: this.feed.model,
      captures: this.captures(),
      folders: this.folders(),
      anonymized: this.redactor.active,
    };
    return JSON.stringify(message);
  }

  /** The served view of every capture. */
  captures(): CaptureInfo[] {
    return this.feed.captures().map((capture) => this.redactor.capture(capture));
  }

  /** The served view of every watched folder. */
  folders(): FolderInfo[] {
    return this.feed.folders().map((folder) => this.redactor.folder(folder));
  }

  /** The name clients see for the capture named `name` on the agent's machine. */
  servedName(name: string): string {
    return this.redactor.captureName(name);
  }

  /**
   * The watched capture whose served name is `served`, or undefined. Only served names are
   * accepted: an anonymised agent does not confirm a guessed original name. Served names are
   * unique (served-names.ts), so the first that matches is the only one.
   */
  watchedName(served: string): string | undefined {
    for (const capture of this.feed.captures()) if (this.servedName(capture.name) === served) return capture.name;
    return undefined;
  }

  /** The served view of a capture's dialogs (withheld ones left out), by its served name. */
  dialogs(servedCapture: string): LiveDialog[] {
    const capture = this.watchedName(servedCapture);
    if (capture === undefined) return [];
    const served: LiveDialog[] = [];
    for (const dialog of this.feed.dialogs(capture)) {
      const view = this.redactor.dialog(dialog);
      if (view !== undefined) served.push(view);
    }
    return served;
  }

  /** Something in the feed changed (a dialog, a capture): cached snapshots are stale. */
  feedChanged(): void {
    this.snapshotCache.clear();
  }

  snapshot(captures: readonly string[]): string {
    const key = JSON.stringify(captures);
    const cached = this.snapshotCache.get(key);
    if (cached !== undefined) return cached;
    const dialogs: LiveDialog[] = [];
    for (const capture of captures) for (const dialog of this.dialogs(capture)) dialogs.push(dialog);
    const message: SnapshotMessage = { v: PROTOCOL_VERSION, type: 'snapshot', captures, dialogs };
    const text = JSON.stringify(message);
    if (this.snapshotCache.size >= SNAPSHOT_CACHE_ENTRIES) this.snapshotCache.clear();
    this.snapshotCache.set(key, text);
    return text;
  }

  /** undefined when the dialog is withheld. */
  dialog(dialog: LiveDialog): string | undefined {
    const view = this.redactor.dialog(dialog);
    if (view === undefined) return undefined;
    const message: DialogMessage = { v: PROTOCOL_VERSION, type: 'dialog', dialog: view };
    return JSON.stringify(message);
  }

  capture(event: Extract<FeedEvent, { kind: 'capture' }>): string {
    const message: CaptureMessage = {
      v: PROTOCOL_VERSION,
      type: 'capture',
      event: event.event,
      capture: this.redactor.capture(event.capture),
      // The same treatment as the capture's own error text: folders name users and customers.
      ...(event.message === undefined ? {} : { message: this.redactor.captureText(event.message) }),
    };
    return JSON.stringify(message);
  }

  folder(event: Extract<FeedEvent, { kind: 'folder' }>): string {
    const message: FolderMessage = {
      v: PROTOCOL_VERSION,
      type: 'folder',
      event: event.event,
      folder: this.redactor.folder(event.folder),
      // The folder named as in `folder`, any other path cut to its last part as in capture messages.
      message: this.redactor.folderText(event.folder, event.message),
    };
    return JSON.stringify(message);
  }

  stats(stats: AgentStats): string {
    const message: StatsMessage = {
      v: PROTOCOL_VERSION,
      type: 'stats',
      packetsPerSecond: stats.packetsPerSecond,
      packets: stats.packets,
      dialogs: stats.dialogs,
      captures: stats.captures.map((lag) => ({ ...lag, name: this.servedName(lag.name) })),
    };
    return JSON.stringify(message);
  }

  /**
   * An error answer to one client. Its text is NOT anonymised: error texts quote what the client
   * sent (subscribed names, a requested path), and anonymising those would give the client the
   * Crypto-PAn image of any address it chooses, an oracle that inverts the mapping bit by bit. The
   * texts hold nothing of the agent's own beyond that (limits, the reason a folder failed).
   */
  error(code: ErrorCode, text: string): string {
    const message: ErrorMessage = { v: PROTOCOL_VERSION, type: 'error', code, message: text };
    return JSON.stringify(message);
  }

  pong(id: string | number | undefined): string {
    const message: PongMessage = id === undefined ? { v: PROTOCOL_VERSION, type: 'pong' } : { v: PROTOCOL_VERSION, type: 'pong', id };
    return JSON.stringify(message);
  }
}
