/**
 * The server's resource limits. Each one bounds what a single client can make the agent hold or
 * do, so that memory and CPU stay bounded whatever clients send or fail to read.
 * docs/protocol.md lists them for client authors.
 */

export interface ServerLimits {
  /** Largest client message (a frame or a fragmented message), bytes; larger closes with 1009. */
  readonly maxMessageBytes: number;
  /** Client messages allowed per second, sustained (token bucket refill rate). */
  readonly messagesPerSecond: number;
  /** Client messages allowed at once (token bucket capacity). */
  readonly messageBurst: number;
  /** Dropped (over-rate) messages within one abuse window that get the client closed (1008). */
  readonly maxDroppedPerWindow: number;
  /** Length of the abuse window, ms. */
  readonly abuseWindowMs: number;
  /**
   * Bytes the socket may hold unsent (ws `bufferedAmount`) before messages go to the client's
   * own coalescing queue instead.
   */
  readonly highWaterBytes: number;
  /** Most messages a client's queue may hold before it is closed as a slow consumer. */
  readonly maxQueuedMessages: number;
  /** Most bytes of serialised messages a client's queue may hold before it is closed. */
  readonly maxQueuedBytes: number;
  /** After a close frame to a client that does not answer it, ms until the socket is destroyed. */
  readonly closeGraceMs: number;
  /** Most WebSocket clients at once; more are refused with 503. */
  readonly maxClients: number;
  /** Interval of `stats` broadcasts, ms. */
  readonly statsIntervalMs: number;
  /** Interval of WebSocket pings; a client that has not answered the previous one is dropped. */
  readonly heartbeatIntervalMs: number;
  /**
   * Shortest time between two snapshots to one client, ms. A snapshot holds every dialog (megabytes
   * for a large capture set); a client repeating `subscribe` gets its next snapshot this much later,
   * built from the state then, so it cannot make the agent serialise the world 50 times a second.
   */
  readonly snapshotIntervalMs: number;
  /**
   * Most TCP connections one remote address may hold at once, authenticated or not; more are
   * closed on accept. The server's own cap (twice maxClients) is shared by everyone, so without
   * this one peer that opens idle connections locks every other client out. Loopback peers are
   * exempt: they are this machine's users, who share one address.
   */
  readonly maxConnectionsPerPeer: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxMessageBytes: 64 * 1024,
  messagesPerSecond: 50,
  messageBurst: 100,
  maxDroppedPerWindow: 1000,
  abuseWindowMs: 10_000,
  highWaterBytes: 1024 * 1024,
  maxQueuedMessages: 4096,
  maxQueuedBytes: 4 * 1024 * 1024,
  closeGraceMs: 1000,
  maxClients: 128,
  statsIntervalMs: 1000,
  heartbeatIntervalMs: 30_000,
  snapshotIntervalMs: 1000,
  maxConnectionsPerPeer: 16,
};

/** The defaults with `overrides` applied; refuses values that would disable a limit. */
export function resolveLimits(overrides: Partial<ServerLimits> = {}): ServerLimits {
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new RangeError(`server limit ${name} must be a positive finite number, got ${String(value)}`);
    }
  }
  return limits;
}
