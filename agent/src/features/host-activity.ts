/**
 * Context across flows: what the other flows of a dialog's host (its flow's client address, the
 * local device) did around the dialog — the `other_*` features of feature-schema.ts, whose file
 * comment defines the window and every value.
 *
 * Every path that makes dialogs feeds this one implementation the same way, packet by packet in
 * capture order (DialogStream for `cumma classify` and the live agent, captureDialogs for
 * `cumma train`, segmentFlowLogs for the training corpora), so training and classifying compute
 * identical features:
 *
 *   windows.advance(time);              // before a packet later than every earlier one
 *   segmenter.closeIdle(time);          //   enters the segmenter (dialogs it closes are ready)
 *   ... segmenter.add(...) ...
 *   notes.context === undefined
 *     ? (notes.context = windows.openDialog(clientIp, time, length, up, tcp))   // first packet
 *     : windows.addPacket(notes.context, time, length, up, tcp);
 *   // when the segmenter closes the dialog, with its own features computed:
 *   windows.closed(notes.context, dialog, features, () => emit(dialog));
 *
 * Cost: per packet, a few additions on the host's cumulative counters (no map lookup: the host
 * index travels with the dialog's window); per new 0.1-s bin a host is active in, one
 * checkpoint of its counters in a ring that covers the dialog gap; per dialog, one map lookup
 * (address → host) and a scan of that ring. Memory: per host, the ring (≤ gap/bin + 2
 * checkpoints, ≈ 3 KB at 5 s); per dialog whose window is still open after it closed (a flow
 * that ended), one waiting entry.
 *
 * Why the window ends at end + gap: a dialog closes when capture time passes its end by more
 * than the gap (DialogSegmenter.closeIdle), so every packet up to end + gap has been seen then
 * and none after it. A dialog closed earlier (its flow ended) waits until time gets there, so
 * its features do not depend on when or why it closed, live or offline. Why no per-flow
 * bookkeeping: the dialog's flow is idle for more than the gap on both sides of it, so inside
 * the window the host's packets minus the dialog's own are exactly the other flows' packets.
 */
import { MinHeap } from '../common/min-heap';
import { CONTEXT_BIN_US, CONTEXT_FEATURES, CONTEXT_OFFSET } from './feature-schema';

/** Cumulative per-host counters. */
const UDP_PACKETS = 0;
const UDP_BYTES = 1;
const TCP_UP_BYTES = 2;
const TCP_DOWN_BYTES = 3;
const DIALOGS = 4;
const COUNTERS = 5;

const US_PER_S = 1_000_000;

/** The start of a dialog's context window: its host and the host's counters before L. */
export interface ContextWindow {
  readonly host: number;
  /** L, µs: the window's first instant. */
  readonly fromUs: number;
  /** The host's cumulative counters over the packets before L (and dialogs starting before L). */
  readonly before: Float64Array;
  /** The same before the start of the dialog's first packet's bin (S, the "before" part's end). */
  readonly beforeStart: Float64Array;
}

/** What the context features need of a closed (or open) dialog. */
export interface ContextDialog {
  readonly flow: { readonly l4: 'tcp' | 'udp' };
  readonly endUs: number;
  readonly packets: { readonly up: number; readonly down: number };
  readonly bytes: { readonly up: number; readonly down: number };
}

class HostState {
  readonly totals = new Float64Array(COUNTERS);
  lastBin = -Infinity;
  /** Checkpoints: bin index and the totals before the first packet of that bin; a ring. */
  bins = new Float64Array(4);
  values = new Float64Array(4 * COUNTERS);
  /** Next slot to write. */
  head = 0;
  size = 0;
}

/** Per-host cumulative activity with checkpoints at bin starts (see the file comment). */
export class HostActivity {
  private readonly hosts: HostState[] = [];
  private readonly byAddress = new Map<string, number>();
  /** Checkpoints a host keeps: enough to reach back one dialog gap from any packet. */
  private readonly capacity: number;

  constructor(
    readonly gapUs: number,
    readonly binUs: number = CONTEXT_BIN_US,
  ) {
    if (!(gapUs > 0) || !Number.isFinite(gapUs)) throw new RangeError(`context windows need a finite dialog gap > 0, got ${gapUs} µs`);
    if (!(binUs > 0)) throw new RangeError(`context bin must be > 0, got ${binUs} µs`);
    this.capacity = Math.ceil(gapUs / binUs) + 2;
  }

  /** Number of hosts seen. */
  get hostCount(): number {
    return this.hosts.length;
  }

  /** Index of the host with this (client) address, created on first use. */
  hostOf(address: string): number {
    let host = this.byAddress.get(address);
    if (host === undefined) {
      host = this.hosts.length;
      this.hosts.push(new HostState());
      this.byAddress.set(address, host);
    }
    return host;
  }

  /** One packet of one of the host's flows (up = client→server). */
  add(host: number, timeUs: number, lengthBytes: number, up: boolean, tcp: boolean): void {
    const state = this.hosts[host]!;
    const bin = Math.floor(timeUs / this.binUs);
    if (bin > state.lastBin) {
      this.checkpoint(state, bin);
      state.lastBin = bin;
    }
    const totals = state.totals;
    if (tcp) {
      if (up) totals[TCP_UP_BYTES]! += lengthBytes;
      else totals[TCP_DOWN_BYTES]! += lengthBytes;
    } else {
      totals[UDP_PACKETS]! += 1;
      totals[UDP_BYTES]! += lengthBytes;
    }
  }

  /**
   * A dialog of `host` opened with a packet at `startUs`, already add()ed: returns its window
   * start and counts the dialog.
   */
  open(host: number, startUs: number): ContextWindow {
    const state = this.hosts[host]!;
    const fromBin = Math.floor((startUs - this.gapUs) / this.binUs) + 1;
    const before = new Float64Array(COUNTERS);
    const beforeStart = new Float64Array(COUNTERS);
    this.countersBefore(state, fromBin, before);
    this.countersBefore(state, Math.floor(startUs / this.binUs), beforeStart);
    state.totals[DIALOGS]! += 1;
    return { host, fromUs: fromBin * this.binUs, before, beforeStart };
  }

  /**
   * The host's counters before the start of bin `bin`: the oldest checkpoint at or after it
   * holds them; none means no packet since, so the current totals.
   */
  private countersBefore(state: HostState, bin: number, into: Float64Array): void {
    const capacity = state.bins.length;
    let found = -1;
    for (let k = 0; k < state.size; k++) {
      const slot = (state.head - 1 - k + capacity) % capacity;
      if (state.bins[slot]! < bin) break;
      found = slot;
    }
    if (found < 0) into.set(state.totals);
    else for (let c = 0; c < COUNTERS; c++) into[c] = state.values[found * COUNTERS + c]!;
  }

  /**
   * Writes the context features of `dialog` (opened as `window`) into out[CONTEXT_OFFSET..],
   * from the host's activity so far.
   */
  write(window: ContextWindow, dialog: ContextDialog, out: Float64Array): void {
    const totals = this.hosts[window.host]!.totals;
    const before = window.before;
    const tcp = dialog.flow.l4 === 'tcp';
    const ownPackets = dialog.packets.up + dialog.packets.down;
    const ownBytes = dialog.bytes.up + dialog.bytes.down;
    const udpPackets = totals[UDP_PACKETS]! - before[UDP_PACKETS]! - (tcp ? 0 : ownPackets);
    const udpBytes = totals[UDP_BYTES]! - before[UDP_BYTES]! - (tcp ? 0 : ownBytes);
    const tcpUp = totals[TCP_UP_BYTES]! - before[TCP_UP_BYTES]! - (tcp ? dialog.bytes.up : 0);
    const tcpDown = totals[TCP_DOWN_BYTES]! - before[TCP_DOWN_BYTES]! - (tcp ? dialog.bytes.down : 0);
    const dialogs = totals[DIALOGS]! - before[DIALOGS]! - 1;
    const windowS = (dialog.endUs + this.gapUs - window.fromUs) / US_PER_S;
    const otherBytes = udpBytes + tcpUp + tcpDown;
    let at = CONTEXT_OFFSET;
    out[at++] = udpBytes;
    out[at++] = udpPackets > 0 ? udpBytes / udpPackets : 0;
    out[at++] = windowS > 0 ? udpBytes / windowS : 0;
    out[at++] = tcpUp;
    out[at++] = tcpDown;
    out[at++] = windowS > 0 ? otherBytes / windowS : 0;
    out[at++] = dialogs;
    out[at++] = Math.log((1 + otherBytes) / (1 + ownBytes));
    // The part of the window before the dialog's first packet's bin: [L, S).
    const early = window.beforeStart;
    out[at++] = early[UDP_BYTES]! - before[UDP_BYTES]!;
    out[at++] = early[TCP_UP_BYTES]! - before[TCP_UP_BYTES]!;
    out[at++] = early[TCP_DOWN_BYTES]! - before[TCP_DOWN_BYTES]!;
    out[at++] = early[DIALOGS]! - before[DIALOGS]!;
    if (at !== CONTEXT_OFFSET + CONTEXT_FEATURES.length) throw new Error(`context features: wrote ${at - CONTEXT_OFFSET}, schema has ${CONTEXT_FEATURES.length}`);
  }

  private checkpoint(state: HostState, bin: number): void {
    let capacity = state.bins.length;
    if (state.size === capacity && capacity < this.capacity) {
      // Grow, oldest checkpoint first.
      const grown = Math.min(this.capacity, capacity * 2);
      const bins = new Float64Array(grown);
      const values = new Float64Array(grown * COUNTERS);
      for (let k = 0; k < state.size; k++) {
        const slot = (state.head + k) % capacity;
        bins[k] = state.bins[slot]!;
        for (let c = 0; c < COUNTERS; c++) values[k * COUNTERS + c] = state.values[slot * COUNTERS + c]!;
      }
      state.bins = bins;
      state.values = values;
      state.head = state.size;
      capacity = grown;
    }
    const slot = state.head;
    state.bins[slot] = bin;
    for (let c = 0; c < COUNTERS; c++) state.values[slot * COUNTERS + c] = state.totals[c]!;
    state.head = (slot + 1) % capacity;
    if (state.size < capacity) state.size++;
  }
}

interface Waiting {
  readonly window: ContextWindow;
  readonly dialog: ContextDialog;
  readonly features: Float64Array;
  readonly done: () => void;
}

/**
 * HostActivity plus the waiting room of dialogs that closed before their window did: the whole
 * protocol a dialog-making path follows (see the file comment).
 */
export class ContextWindows {
  readonly activity: HostActivity;
  private newest = -Infinity;
  private readonly due = new MinHeap();
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;

  constructor(gapUs: number, binUs: number = CONTEXT_BIN_US) {
    this.activity = new HostActivity(gapUs, binUs);
  }

  /** Dialogs closed but waiting for their window to end. */
  get waitingCount(): number {
    return this.waiting.size;
  }

  /**
   * Capture time reaches `timeUs` (call before the packet at that time is added; earlier or
   * equal times are ignored): dialogs whose window ended before it get their features.
   */
  advance(timeUs: number): void {
    if (!(timeUs > this.newest)) return;
    this.newest = timeUs;
    while (this.due.peekKey() < timeUs) this.release(this.due.pop()!);
  }

  /** A dialog's first packet: counts it for the host of `clientAddress` and opens the window. */
  openDialog(clientAddress: string, timeUs: number, lengthBytes: number, up: boolean, tcp: boolean): ContextWindow {
    const host = this.activity.hostOf(clientAddress);
    this.activity.add(host, timeUs, lengthBytes, up, tcp);
    return this.activity.open(host, timeUs);
  }

  /** A later packet of the dialog opened as `window`. */
  addPacket(window: ContextWindow, timeUs: number, lengthBytes: number, up: boolean, tcp: boolean): void {
    this.activity.add(window.host, timeUs, lengthBytes, up, tcp);
  }

  /**
   * The dialog closed, with its own features in `features`: writes its context features and
   * calls `done` — at once when capture time is already past end + gap, else once it is (or at
   * flush).
   */
  closed(window: ContextWindow, dialog: ContextDialog, features: Float64Array, done: () => void): void {
    const readyAt = dialog.endUs + this.activity.gapUs;
    if (readyAt < this.newest) {
      this.activity.write(window, dialog, features);
      done();
      return;
    }
    const id = this.nextId++;
    this.waiting.set(id, { window, dialog, features, done });
    this.due.push(readyAt, id);
  }

  /** Context so far, for a dialog still open (provisional labels). */
  writeSoFar(window: ContextWindow, dialog: ContextDialog, features: Float64Array): void {
    this.activity.write(window, dialog, features);
  }

  /** End of input: every waiting dialog gets its features, in the order their windows end. */
  flush(): void {
    while (this.due.size > 0) this.release(this.due.pop()!);
  }

  private release(id: number): void {
    const entry = this.waiting.get(id)!;
    this.waiting.delete(id);
    this.activity.write(entry.window, entry.dialog, entry.features);
    entry.done();
  }
}
