/**
 * Builds the server's protocol messages as JSON text, with addresses anonymised when the
 * redactor is active. A message for many clients is serialised once and the same string is
 * sent to (and queued for) each of them.
 */
import { AgentStats, CaptureInfo, FeedEvent, LabelFeed, LiveDialog } from '../live/label-feed';
import { AddressRedactor } from './address-redactor';
import {
  CaptureMessage,
  DialogMessage,
  ErrorCode,
  ErrorMessage,
  HelloMessage,
  PongMessage,
  PROTOCOL_VERSION,
  SnapshotMessage,
  StatsMessage,
} from './protocol';

export class MessageEncoder {
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
      anonymized: this.redactor.active,
    };
    return JSON.stringify(message);
  }

  /** The served view of every capture. */
  captures(): CaptureInfo[] {
    return this.feed.captures().map((capture) => this.redactor.capture(capture));
  }

  /** The name clients see for the capture named `name` on the agent's machine. */
  servedName(name: string): string {
    return this.redactor.text(name);
  }

  /**
   * The watched capture whose served name is `served`, or undefined. Only served names are
   * accepted: an anonymised agent does not confirm a guessed original name.
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

  snapshot(captures: readonly string[]): string {
    const dialogs: LiveDialog[] = [];
    for (const capture of captures) for (const dialog of this.dialogs(capture)) dialogs.push(dialog);
    const message: SnapshotMessage = { v: PROTOCOL_VERSION, type: 'snapshot', captures, dialogs };
    return JSON.stringify(message);
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
      ...(event.message === undefined ? {} : { message: this.redactor.text(event.message) }),
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

  error(code: ErrorCode, text: string): string {
    const message: ErrorMessage = { v: PROTOCOL_VERSION, type: 'error', code, message: this.redactor.text(text) };
    return JSON.stringify(message);
  }

  pong(id: string | number | undefined): string {
    const message: PongMessage = id === undefined ? { v: PROTOCOL_VERSION, type: 'pong' } : { v: PROTOCOL_VERSION, type: 'pong', id };
    return JSON.stringify(message);
  }
}
