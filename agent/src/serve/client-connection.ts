/**
 * One WebSocket client: its subscription, its rate limit, its outgoing queue.
 *
 * Outgoing messages go straight to the socket while the socket keeps up (ws `bufferedAmount`
 * under the high-water mark) and into the client's CoalescingOutbox otherwise; the outbox is
 * drained from the socket's write callbacks, i.e. as the client reads. A client whose outbox
 * outgrows its bounds is closed as a slow consumer, so what the agent holds for a client is at
 * most: high-water bytes + one message + the outbox bounds (+ one snapshot being written).
 */
import type { RawData, WebSocket } from 'ws';
import { LabelFeed } from '../live/label-feed';
import { parseClientMessage } from './client-message';
import { ServerLimits } from './limits';
import { OutboxItem, CoalescingOutbox } from './outbox';
import { ClientMessage, ErrorCode } from './protocol';
import { RateLimiter } from './rate-limiter';
import { MessageEncoder } from './server-messages';
import { ServerLog } from './server-log';

/** WebSocket close codes used by the server (RFC 6455 section 7.4.1). */
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_POLICY_VIOLATION = 1008;
export const CLOSE_TRY_AGAIN_LATER = 1013;

export const SLOW_CONSUMER_REASON = 'slow consumer';
export const RATE_LIMIT_REASON = 'rate limit exceeded';

/** Counters shared by every connection of a server, for debugStats(). */
export interface ConnectionCounters {
  slowConsumerCloses: number;
  rateLimitCloses: number;
  /** Largest outbox (messages / bytes) any client has had since the server started. */
  peakQueuedMessages: number;
  peakQueuedBytes: number;
}

export interface ConnectionContext {
  readonly feed: LabelFeed;
  readonly encoder: MessageEncoder;
  readonly limits: ServerLimits;
  readonly log: ServerLog;
  /** How log lines write folder paths and what the agent says of them (AgentServerOptions.logCaptureText). */
  readonly logCaptureText: (text: string) => string;
  readonly counters: ConnectionCounters;
  readonly onClosed: (connection: ClientConnection) => void;
}

type Subscription = '*' | ReadonlySet<string> | undefined;

export class ClientConnection {
  private readonly outbox = new CoalescingOutbox();
  private readonly rate: RateLimiter;
  private subscription: Subscription;
  private subscribedNames: readonly string[] = [];
  private closing = false;
  private alive = true;
  private terminateTimer: NodeJS.Timeout | undefined;
  /** No snapshot is written before this time (performance.now() ms): see limits.snapshotIntervalMs. */
  private snapshotNotBefore = 0;
  private snapshotTimer: NodeJS.Timeout | undefined;
  /** One callback object for every send: drains the outbox as the socket empties. */
  private readonly onWritten = (error?: Error): void => {
    if (error === undefined || error === null) this.flush();
  };

  constructor(
    private readonly socket: WebSocket,
    readonly peer: string,
    private readonly context: ConnectionContext,
  ) {
    const { limits } = context;
    this.rate = new RateLimiter({
      perSecond: limits.messagesPerSecond,
      burst: limits.messageBurst,
      maxDroppedPerWindow: limits.maxDroppedPerWindow,
      abuseWindowMs: limits.abuseWindowMs,
    });
    socket.on('message', (data, isBinary) => this.receive(data, isBinary));
    socket.on('pong', () => {
      this.alive = true;
    });
    socket.on('error', (error) => context.log('warn', `client ${peer}: ${error.message}`));
    socket.on('close', (code, reason) => this.closed(code, reason.toString()));
    this.enqueue({ kind: 'message', text: context.encoder.hello() });
  }

  get queuedMessages(): number {
    return this.outbox.size;
  }

  get queuedBytes(): number {
    return this.outbox.bytes;
  }

  get bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  /** A dialog event (already serialised) for `capture` (its served name); ignored unless subscribed. */
  offerDialog(capture: string, dialogId: string, text: string): void {
    if (!this.isSubscribed(capture)) return;
    this.enqueue({ kind: 'dialog', dialogId, text });
  }

  /** A message for every client (capture events). */
  offerMessage(text: string): void {
    this.enqueue({ kind: 'message', text });
  }

  offerStats(text: string): void {
    this.enqueue({ kind: 'stats', text });
  }

  /** Heartbeat tick: drops a client that did not answer the previous ping. */
  heartbeat(): void {
    if (this.closing) return;
    if (!this.alive) {
      this.context.log('info', `client ${this.peer}: no answer to ping, dropped`);
      this.socket.terminate();
      return;
    }
    this.alive = false;
    this.socket.ping();
  }

  /** Closes with `code`/`reason`; destroys the socket if the client does not answer in time. */
  close(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    this.outbox.clear();
    this.socket.close(code, reason);
    this.terminateTimer = setTimeout(() => this.socket.terminate(), this.context.limits.closeGraceMs);
    this.terminateTimer.unref();
  }

  /** Sends what the socket can take now, in order; the rest waits for the next write callback. */
  flush(): void {
    const { socket } = this;
    while (!this.closing && this.outbox.size > 0 && socket.readyState === socket.OPEN && socket.bufferedAmount < this.context.limits.highWaterBytes) {
      if (this.outbox.peek()!.kind === 'snapshot' && this.snapshotTooSoon()) return;
      this.write(this.outbox.shift()!);
    }
  }

  /**
   * Whether a snapshot must wait (the client had one less than snapshotIntervalMs ago); if so, a
   * flush is set for when it may go. Everything queued behind it waits too, which keeps the
   * order the protocol promises (snapshot, then the dialogs after it) and delays only this client.
   */
  private snapshotTooSoon(): boolean {
    const wait = this.snapshotNotBefore - performance.now();
    if (wait <= 0) return false;
    if (this.snapshotTimer === undefined) {
      this.snapshotTimer = setTimeout(() => {
        this.snapshotTimer = undefined;
        this.flush();
      }, Math.ceil(wait));
      this.snapshotTimer.unref();
    }
    return true;
  }

  private enqueue(item: OutboxItem): void {
    if (this.closing) return;
    const { socket } = this;
    if (
      this.outbox.size === 0 &&
      socket.readyState === socket.OPEN &&
      socket.bufferedAmount < this.context.limits.highWaterBytes &&
      !(item.kind === 'snapshot' && this.snapshotTooSoon())
    ) {
      this.write(item);
      return;
    }
    this.outbox.push(item);
    const { counters, limits } = this.context;
    counters.peakQueuedMessages = Math.max(counters.peakQueuedMessages, this.outbox.size);
    counters.peakQueuedBytes = Math.max(counters.peakQueuedBytes, this.outbox.bytes);
    if (this.outbox.size > limits.maxQueuedMessages || this.outbox.bytes > limits.maxQueuedBytes) {
      counters.slowConsumerCloses += 1;
      this.context.log('warn', `client ${this.peer}: closed as a slow consumer (${this.outbox.size} messages, ${this.outbox.bytes} bytes queued, ${socket.bufferedAmount} bytes unsent)`);
      // Past the queue, straight to the socket: a client that is merely slow reads it before the close.
      socket.send(this.context.encoder.error('SLOW_CONSUMER', `more than ${limits.maxQueuedMessages} messages or ${limits.maxQueuedBytes} bytes waiting for this client; closing`));
      this.close(CLOSE_TRY_AGAIN_LATER, SLOW_CONSUMER_REASON);
    }
  }

  private write(item: OutboxItem): void {
    if (item.kind === 'snapshot') this.snapshotNotBefore = performance.now() + this.context.limits.snapshotIntervalMs;
    const text = item.kind === 'snapshot' ? this.context.encoder.snapshot(this.snapshotCaptures()) : item.text;
    this.socket.send(text, this.onWritten);
  }

  private receive(data: RawData, isBinary: boolean): void {
    if (this.closing) return;
    this.alive = true;
    switch (this.rate.take()) {
      case 'accept':
        break;
      case 'drop-and-notify':
        this.replyError('RATE_LIMITED', `more than ${this.context.limits.messagesPerSecond} messages a second (burst ${this.context.limits.messageBurst}); messages are being dropped`);
        return;
      case 'drop':
        return;
      case 'abusive':
        this.context.counters.rateLimitCloses += 1;
        this.context.log('warn', `client ${this.peer}: closed for exceeding the message rate limit`);
        this.close(CLOSE_POLICY_VIOLATION, RATE_LIMIT_REASON);
        return;
    }
    if (isBinary) {
      this.replyError('BAD_MESSAGE', 'binary frames are not accepted; send one JSON object per text frame');
      return;
    }
    const parsed = parseClientMessage(rawText(data));
    if (!parsed.ok) {
      this.replyError(parsed.code, parsed.error);
      return;
    }
    this.handle(parsed.message);
  }

  private handle(message: ClientMessage): void {
    switch (message.type) {
      case 'subscribe':
        this.subscribe(message.captures);
        return;
      case 'unsubscribe':
        this.subscription = undefined;
        this.subscribedNames = [];
        this.outbox.dropDialogs();
        return;
      case 'watch':
        this.watch(message.path);
        return;
      case 'ping':
        this.enqueue({ kind: 'message', text: this.context.encoder.pong(message.id) });
        return;
    }
  }

  private subscribe(captures: readonly string[] | '*'): void {
    if (captures === '*') {
      this.subscription = '*';
      this.subscribedNames = [];
    } else {
      this.subscription = new Set(captures);
      this.subscribedNames = [...this.subscription];
    }
    this.enqueue({ kind: 'snapshot' });
    if (captures !== '*') {
      const known = new Set(this.context.encoder.captures().map((capture) => capture.name));
      const unknown = this.subscribedNames.filter((name) => !known.has(name));
      if (unknown.length > 0) {
        const shown = unknown.slice(0, 5).map((name) => JSON.stringify(name.slice(0, 128))).join(', ');
        this.replyError('UNKNOWN_CAPTURE', `not watched (yet): ${shown}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}; the subscription holds and their dialogs will come if they appear`);
      }
    }
  }

  private watch(path: string): void {
    const failed = (error: unknown): void => {
      const reason = error instanceof Error ? error.message : String(error);
      // The live agent's errors already say "cannot watch PATH: …" (they serve its command line
      // too); other refusals (a feed that watches nothing on request) do not name the folder.
      const text = reason.startsWith('cannot watch ') ? reason : `cannot watch ${path}: ${reason}`;
      this.context.log('warn', `client ${this.peer}: ${this.context.logCaptureText(text)}`);
      this.replyError('WATCH_FAILED', text);
    };
    try {
      this.context.feed.watchFolder(path).then(() => this.context.log('info', `client ${this.peer}: watching ${this.context.logCaptureText(path)}`), failed);
    } catch (error) {
      failed(error);
    }
  }

  /** The captures the current subscription covers, for a snapshot built now. */
  private snapshotCaptures(): readonly string[] {
    if (this.subscription === '*') return this.context.encoder.captures().map((capture) => capture.name);
    return this.subscribedNames;
  }

  private isSubscribed(capture: string): boolean {
    const { subscription } = this;
    return subscription === '*' || (subscription !== undefined && subscription.has(capture));
  }

  private replyError(code: ErrorCode, text: string): void {
    this.enqueue({ kind: 'message', text: this.context.encoder.error(code, text) });
  }

  private closed(code: number, reason: string): void {
    this.closing = true;
    this.outbox.clear();
    if (this.terminateTimer !== undefined) clearTimeout(this.terminateTimer);
    if (this.snapshotTimer !== undefined) clearTimeout(this.snapshotTimer);
    this.context.log('info', `client ${this.peer}: disconnected (${code}${reason === '' ? '' : ` ${reason}`})`);
    this.context.onClosed(this);
  }
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
