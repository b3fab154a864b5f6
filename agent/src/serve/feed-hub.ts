/**
 * Fans the feed's events out to the connected clients: each event is serialised once and offered
 * to every connection (which applies its own subscription and queue). Also owns the periodic
 * work: `stats` broadcasts and WebSocket heartbeats.
 */
import { FeedEvent, LabelFeed } from '../live/label-feed';
import { ClientConnection, ConnectionCounters } from './client-connection';
import { ServerLimits } from './limits';
import { MessageEncoder } from './server-messages';
import { ServerLog } from './server-log';

/** What debugStats() reports: enough to assert that memory held for clients stays bounded. */
export interface ServerDebugStats {
  readonly clients: number;
  /** Messages and bytes waiting in all clients' queues now. */
  readonly queuedMessages: number;
  readonly queuedBytes: number;
  /** The largest single client queue now. */
  readonly maxClientQueuedMessages: number;
  readonly maxClientQueuedBytes: number;
  /** Bytes handed to sockets and not yet written to the kernel, all clients. */
  readonly bufferedBytes: number;
  /** Largest single-client queue since the server started. */
  readonly peakQueuedMessages: number;
  readonly peakQueuedBytes: number;
  readonly slowConsumerCloses: number;
  readonly rateLimitCloses: number;
}

export class FeedHub {
  private readonly connections = new Set<ClientConnection>();
  private readonly unsubscribe: () => void;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly feed: LabelFeed,
    private readonly encoder: MessageEncoder,
    limits: ServerLimits,
    private readonly log: ServerLog,
    private readonly counters: ConnectionCounters,
  ) {
    this.unsubscribe = feed.subscribe((event) => this.publish(event));
    this.every(limits.statsIntervalMs, () => this.publishStats());
    this.every(limits.heartbeatIntervalMs, () => {
      for (const connection of this.connections) connection.heartbeat();
    });
  }

  get size(): number {
    return this.connections.size;
  }

  add(connection: ClientConnection): void {
    this.connections.add(connection);
  }

  remove(connection: ClientConnection): void {
    this.connections.delete(connection);
  }

  /** Stops listening to the feed and the timers; connections are closed by the caller. */
  stop(): void {
    this.unsubscribe();
    for (const timer of this.timers) clearInterval(timer);
  }

  each(action: (connection: ClientConnection) => void): void {
    for (const connection of [...this.connections]) action(connection);
  }

  debugStats(): ServerDebugStats {
    let queuedMessages = 0;
    let queuedBytes = 0;
    let maxClientQueuedMessages = 0;
    let maxClientQueuedBytes = 0;
    let bufferedBytes = 0;
    for (const connection of this.connections) {
      queuedMessages += connection.queuedMessages;
      queuedBytes += connection.queuedBytes;
      maxClientQueuedMessages = Math.max(maxClientQueuedMessages, connection.queuedMessages);
      maxClientQueuedBytes = Math.max(maxClientQueuedBytes, connection.queuedBytes);
      bufferedBytes += connection.bufferedBytes;
    }
    return {
      clients: this.connections.size,
      queuedMessages,
      queuedBytes,
      maxClientQueuedMessages,
      maxClientQueuedBytes,
      bufferedBytes,
      peakQueuedMessages: this.counters.peakQueuedMessages,
      peakQueuedBytes: this.counters.peakQueuedBytes,
      slowConsumerCloses: this.counters.slowConsumerCloses,
      rateLimitCloses: this.counters.rateLimitCloses,
    };
  }

  private publish(event: FeedEvent): void {
    // Before anything else: a snapshot built from here on must see this event.
    this.encoder.feedChanged();
    // A throwing listener would break the feed's own loop: report and carry on.
    try {
      if (event.kind === 'dialog') {
        if (this.connections.size === 0) return;
        const text = this.encoder.dialog(event.dialog);
        if (text === undefined) return;
        const capture = this.encoder.servedName(event.dialog.capture);
        for (const connection of this.connections) connection.offerDialog(capture, event.dialog.id, text);
      } else {
        const text = event.kind === 'folder' ? this.encoder.folder(event) : this.encoder.capture(event);
        for (const connection of this.connections) connection.offerMessage(text);
      }
    } catch (error) {
      this.log('error', `publishing a ${event.kind} event failed: ${(error as Error).stack ?? String(error)}`);
    }
  }

  private publishStats(): void {
    if (this.connections.size === 0) return;
    try {
      const text = this.encoder.stats(this.feed.stats());
      for (const connection of this.connections) {
        connection.offerStats(text);
        // Also a safety net: drains any queue whose write callback was missed.
        connection.flush();
      }
    } catch (error) {
      this.log('error', `publishing stats failed: ${(error as Error).message}`);
    }
  }

  private every(intervalMs: number, action: () => void): void {
    const timer = setInterval(action, intervalMs);
    timer.unref();
    this.timers.push(timer);
  }
}
