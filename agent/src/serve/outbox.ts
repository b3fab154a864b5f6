/**
 * A client's queue of messages waiting for its socket to drain. Bounded, and coalescing so that
 * a client that falls behind receives the latest state rather than every intermediate one:
 * - a `dialog` update replaces a queued update of the same dialog id;
 * - `stats` replaces queued stats;
 * - a `snapshot` is queued as a marker and built only when sent, from the feed's latest state,
 *   so it replaces an earlier queued snapshot and every queued dialog update (the snapshot will
 *   hold their latest state), and dialog updates arriving while it waits are dropped likewise;
 * - anything else (hello, capture events, errors, pongs) is kept in order.
 * A replacement moves to the back of the queue, keeping the order in which states arose.
 * Whether the bounds are exceeded is the caller's decision (it closes the client).
 */

export type OutboxItem =
  | { readonly kind: 'dialog'; readonly dialogId: string; readonly text: string }
  | { readonly kind: 'stats'; readonly text: string }
  | { readonly kind: 'snapshot' }
  | { readonly kind: 'message'; readonly text: string };

/** What a snapshot marker is counted as: it holds no text until it is sent. */
const SNAPSHOT_MARKER_BYTES = 64;

export class CoalescingOutbox {
  private readonly items = new Map<string, OutboxItem>();
  private sequence = 0;
  private queuedBytes = 0;

  get size(): number {
    return this.items.size;
  }

  /** Bytes of serialised text held (UTF-16 code units; messages are mostly ASCII). */
  get bytes(): number {
    return this.queuedBytes;
  }

  get hasSnapshot(): boolean {
    return this.items.has('snapshot');
  }

  push(item: OutboxItem): void {
    switch (item.kind) {
      case 'dialog':
        if (this.hasSnapshot) return;
        this.replace(`d:${item.dialogId}`, item);
        return;
      case 'stats':
        this.replace('stats', item);
        return;
      case 'snapshot':
        this.dropDialogs();
        this.replace('snapshot', item);
        return;
      case 'message':
        this.replace(`m:${this.sequence++}`, item);
        return;
    }
  }

  /** Removes queued dialog updates and any pending snapshot (the subscription ended). */
  dropDialogs(): void {
    for (const [key, item] of this.items) {
      if (item.kind === 'dialog' || item.kind === 'snapshot') this.remove(key);
    }
  }

  /** The item shift() would return, left in place. */
  peek(): OutboxItem | undefined {
    const first = this.items.values().next();
    return first.done === true ? undefined : first.value;
  }

  shift(): OutboxItem | undefined {
    const first = this.items.keys().next();
    if (first.done === true) return undefined;
    const item = this.items.get(first.value)!;
    this.remove(first.value);
    return item;
  }

  clear(): void {
    this.items.clear();
    this.queuedBytes = 0;
  }

  private replace(key: string, item: OutboxItem): void {
    this.remove(key);
    this.items.set(key, item);
    this.queuedBytes += sizeOf(item);
  }

  private remove(key: string): void {
    const old = this.items.get(key);
    if (old === undefined) return;
    this.items.delete(key);
    this.queuedBytes -= sizeOf(old);
  }
}

function sizeOf(item: OutboxItem): number {
  return item.kind === 'snapshot' ? SNAPSHOT_MARKER_BYTES : item.text.length;
}
