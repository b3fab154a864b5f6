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
 *   notes.context = windows.track(notes.context, clientIp, time, length, up, tcp);
 *   // when the segmenter closes the dialog, with its own features computed:
 *   if (windows.closed(notes.context, dialog, features, dialog)) emit(dialog);
 *   // else the constructor's onReady(dialog) emits it once its window has ended
 *
 * Cost: per packet, a few additions on the host's cumulative counters (no map lookup: the host
 * index travels with the dialog's window); per new 0.1-s bin a host is active in, one
 * checkpoint of its counters in a ring that covers the dialog gap; per dialog, one map lookup
 * (address → host) and a scan of that ring. Memory: per host, the ring (≤ gap/bin + 2
 * checkpoints, ≈ 3 KB at 5 s); per dialog whose window is still open after it closed (a flow
 * that ended), one waiting entry. A host silent for longer than the gap, with no dialog whose
 * window is still open, is forgotten (swept once per gap of capture time): a later window of
 * it reaches back no further than the gap, so a fresh state gives the same features, and
 * memory follows the hosts active now, not every address ever seen (a spoofed-source flood).
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

/**
 * The start of a dialog's context window: its host and the host's counters before L (packets
 * before L, dialogs starting before L) and before S, the start of the dialog's first packet's
 * bin (the before part's end). Plain fields: one small object per dialog, nothing else.
 */
export class ContextWindow {
  udpPacketsAtL = 0;
  udpBytesAtL = 0;
  tcpUpBytesAtL = 0;
  tcpDownBytesAtL = 0;
  dialogsAtL = 0;
  udpBytesAtS = 0;
  tcpUpBytesAtS = 0;
  tcpDownBytesAtS = 0;
  dialogsAtS = 0;

  constructor(
    readonly host: number,
    /** L, µs: the window's first instant. */
    readonly fromUs: number,
  ) {}
}

/** What the context features need of a closed (or open) dialog. */
export interface ContextDialog {
  readonly flow: { readonly l4: 'tcp' | 'udp' };
  readonly endUs: number;
  readonly packets: { readonly up: number; readonly down: number };
  readonly bytes: { readonly up: number; readonly down: number };
}

/**
 * Plain number arrays, not Float64Arrays: a host lives a dialog gap after its last packet, and
 * when addresses come fast (a scan, a busy NAT) tens of thousands are held at once; each typed
 * array costs an ArrayBuffer and a malloc'ed store besides its numbers.
 */
function zeros(length: number): number[] {
  return new Array<number>(length).fill(0);
}

class HostState {
  readonly totals = zeros(COUNTERS);
  lastBin = -Infinity;
  /** Dialogs of the host whose context features are not written yet. */
  openWindows = 0;
  /** Checkpoints: bin index and the totals before the first packet of that bin; a ring. */
  bins = zeros(4);
  values = zeros(4 * COUNTERS);
  /** Next slot to write. */
  head = 0;
  size = 0;
}

/** Per-host cumulative activity with checkpoints at bin starts (see the file comment). */
export class HostActivity {
  /** By host index; undefined once forgotten (the index goes back to freeIndices). */
  private readonly hosts: (HostState | undefined)[] = [];
  private readonly byAddress = new Map<string, number>();
  private readonly freeIndices: number[] = [];
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

  /** Number of hosts held (active within the last gap, or with a window still open). */
  get hostCount(): number {
    return this.byAddress.size;
  }

  /** Index of the host with this (client) address, created on first use. */
  hostOf(address: string): number {
    let host = this.byAddress.get(address);
    if (host === undefined) {
      host = this.freeIndices.pop() ?? this.hosts.length;
      this.hosts[host] = new HostState();
      this.byAddress.set(address, host);
    }
    return host;
  }

  /** The dialog opened on `host` has its context features written for good. */
  windowDone(host: number): void {
    this.hosts[host]!.openWindows--;
  }

  /** Forgets the hosts with no packet since before `timeUs` − gap and no open window. */
  sweep(timeUs: number): void {
    const lastKeptBin = Math.floor((timeUs - this.gapUs) / this.binUs) - 1;
    for (const [address, host] of this.byAddress) {
      const state = this.hosts[host]!;
      if (state.openWindows > 0 || state.lastBin >= lastKeptBin) continue;
      this.byAddress.delete(address);
      this.hosts[host] = undefined;
      this.freeIndices.push(host);
    }
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
    const window = new ContextWindow(host, fromBin * this.binUs);
    let values = state.totals;
    let at = this.checkpointAtOrAfter(state, fromBin);
    if (at >= 0) values = state.values;
    else at = 0;
    window.udpPacketsAtL = values[at + UDP_PACKETS]!;
    window.udpBytesAtL = values[at + UDP_BYTES]!;
    window.tcpUpBytesAtL = values[at + TCP_UP_BYTES]!;
    window.tcpDownBytesAtL = values[at + TCP_DOWN_BYTES]!;
    window.dialogsAtL = values[at + DIALOGS]!;
    values = state.totals;
    at = this.checkpointAtOrAfter(state, Math.floor(startUs / this.binUs));
    if (at >= 0) values = state.values;
    else at = 0;
    window.udpBytesAtS = values[at + UDP_BYTES]!;
    window.tcpUpBytesAtS = values[at + TCP_UP_BYTES]!;
    window.tcpDownBytesAtS = values[at + TCP_DOWN_BYTES]!;
    window.dialogsAtS = values[at + DIALOGS]!;
    state.totals[DIALOGS]! += 1;
    state.openWindows++;
    return window;
  }

  /**
   * Where the host's counters before the start of bin `bin` are: the oldest checkpoint at or
   * after that bin holds them (its offset in state.values is returned); -1 means no packet since,
   * so the current totals.
   */
  private checkpointAtOrAfter(state: HostState, bin: number): number {
    const capacity = state.bins.length;
    let found = -1;
    for (let k = 0; k < state.size; k++) {
      const slot = (state.head - 1 - k + capacity) % capacity;
      if (state.bins[slot]! < bin) break;
      found = slot;
    }
    return found < 0 ? -1 : found * COUNTERS;
  }

  /**
   * Writes the context features of `dialog` (opened as `window`) into out[CONTEXT_OFFSET..],
   * from the host's activity so far.
   */
  write(window: ContextWindow, dialog: ContextDialog, out: Float64Array): void {
    const totals = this.hosts[window.host]!.totals;
    const tcp = dialog.flow.l4 === 'tcp';
    const ownPackets = dialog.packets.up + dialog.packets.down;
    const ownBytes = dialog.bytes.up + dialog.bytes.down;
    const udpPackets = totals[UDP_PACKETS]! - window.udpPacketsAtL - (tcp ? 0 : ownPackets);
    const udpBytes = totals[UDP_BYTES]! - window.udpBytesAtL - (tcp ? 0 : ownBytes);
    const tcpUp = totals[TCP_UP_BYTES]! - window.tcpUpBytesAtL - (tcp ? dialog.bytes.up : 0);
    const tcpDown = totals[TCP_DOWN_BYTES]! - window.tcpDownBytesAtL - (tcp ? dialog.bytes.down : 0);
    const dialogs = totals[DIALOGS]! - window.dialogsAtL - 1;
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
    out[at++] = window.udpBytesAtS - window.udpBytesAtL;
    out[at++] = window.tcpUpBytesAtS - window.tcpUpBytesAtL;
    out[at++] = window.tcpDownBytesAtS - window.tcpDownBytesAtL;
    out[at++] = window.dialogsAtS - window.dialogsAtL;
    if (at !== CONTEXT_OFFSET + CONTEXT_FEATURES.length) throw new Error(`context features: wrote ${at - CONTEXT_OFFSET}, schema has ${CONTEXT_FEATURES.length}`);
  }

  private checkpoint(state: HostState, bin: number): void {
    let capacity = state.bins.length;
    if (state.size === capacity && capacity < this.capacity) {
      // Grow, oldest checkpoint first.
      const grown = Math.min(this.capacity, capacity * 2);
      const bins = zeros(grown);
      const values = zeros(grown * COUNTERS);
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

interface Waiting<T> {
  readonly window: ContextWindow;
  readonly dialog: ContextDialog;
  readonly features: Float64Array;
  readonly payload: T;
}

/**
 * HostActivity plus the waiting room of dialogs that closed before their window did: the whole
 * protocol a dialog-making path follows (see the file comment). `onReady` receives the payload
 * of each dialog that waited, once its features are complete.
 */
export class ContextWindows<T = unknown> {
  readonly activity: HostActivity;
  private newest = -Infinity;
  private lastSweepUs = -Infinity;
  private readonly due = new MinHeap();
  private readonly waiting = new Map<number, Waiting<T>>();
  private nextId = 0;

  constructor(
    gapUs: number,
    private readonly onReady: (payload: T) => void,
    binUs: number = CONTEXT_BIN_US,
  ) {
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
    if (timeUs - this.lastSweepUs >= this.activity.gapUs) {
      this.lastSweepUs = timeUs;
      this.activity.sweep(timeUs);
    }
  }

  /** A dialog's first packet: counts it for the host of `clientAddress` and opens the window. */
  openDialog(clientAddress: string, timeUs: number, lengthBytes: number, up: boolean, tcp: boolean): ContextWindow {
    const host = this.activity.hostOf(clientAddress);
    this.activity.add(host, timeUs, lengthBytes, up, tcp);
    return this.activity.open(host, timeUs);
  }

  /**
   * A packet of a dialog: opens its window when `window` is undefined (the dialog's first
   * packet), else adds to it. Returns the dialog's window.
   */
  track(window: ContextWindow | undefined, clientAddress: string, timeUs: number, lengthBytes: number, up: boolean, tcp: boolean): ContextWindow {
    if (window === undefined) return this.openDialog(clientAddress, timeUs, lengthBytes, up, tcp);
    this.addPacket(window, timeUs, lengthBytes, up, tcp);
    return window;
  }

  /** A later packet of the dialog opened as `window`. */
  addPacket(window: ContextWindow, timeUs: number, lengthBytes: number, up: boolean, tcp: boolean): void {
    this.activity.add(window.host, timeUs, lengthBytes, up, tcp);
  }

  /**
   * The dialog closed, with its own features in `features`. When capture time is already past
   * end + gap, writes its context features and returns true (the caller goes on with the
   * dialog); else returns false, and `onReady(payload)` follows once time gets there (or at
   * flush).
   */
  closed(window: ContextWindow, dialog: ContextDialog, features: Float64Array, payload: T): boolean {
    const readyAt = dialog.endUs + this.activity.gapUs;
    if (readyAt < this.newest) {
      this.activity.write(window, dialog, features);
      this.activity.windowDone(window.host);
      return true;
    }
    const id = this.nextId++;
    this.waiting.set(id, { window, dialog, features, payload });
    this.due.push(readyAt, id);
    return false;
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
    this.activity.windowDone(entry.window.host);
    this.onReady(entry.payload);
  }
}
