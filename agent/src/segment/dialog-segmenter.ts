/**
 * Cuts each flow's packets into sessions and dialogs by idle gaps, as packets arrive. Open
 * dialogs are kept per flow; a dialog is emitted when a gap closes it, when time moves on past
 * its end by more than the dialog gap (closeIdle), or when its flow ends.
 * Callers attach their own per-dialog data ("notes": feature accumulators, truth labels)
 * through the object add() returns.
 */
import { Packet } from '../capture/packet';
import { MinHeap } from '../common/min-heap';
import { formatIpv4, formatIpv6 } from '../flows/ip-address';
import { Dialog, FlowEndpoints, SegmentationGaps } from './dialog';

export class OpenDialog<Notes> {
  packetsUp = 0;
  packetsDown = 0;
  bytesUp = 0;
  bytesDown = 0;
  endUs: number;

  constructor(
    readonly flowId: number,
    readonly flow: FlowEndpoints,
    readonly session: number,
    readonly dialog: number,
    readonly startUs: number,
    readonly notes: Notes,
  ) {
    this.endUs = startUs;
  }

  close(): Dialog<Notes> {
    return {
      flowId: this.flowId,
      flow: this.flow,
      session: this.session,
      dialog: this.dialog,
      startUs: this.startUs,
      endUs: this.endUs,
      packets: { up: this.packetsUp, down: this.packetsDown },
      bytes: { up: this.bytesUp, down: this.bytesDown },
      notes: this.notes,
    };
  }
}

function address(words: Uint32Array, version: number): string {
  return version === 4 ? formatIpv4(words[0]!) : formatIpv6(words);
}

/** Endpoints of a flow from one of its packets and that packet's direction. */
export function endpointsOf(packet: Packet, up: boolean): FlowEndpoints {
  const source = { ip: address(packet.srcAddress, packet.ipVersion), port: packet.srcPort };
  const destination = { ip: address(packet.dstAddress, packet.ipVersion), port: packet.dstPort };
  return {
    l4: packet.ipProtocol === 6 ? 'tcp' : 'udp',
    client: up ? source : destination,
    server: up ? destination : source,
  };
}

/**
 * Where a flow stands after its last dialog was closed by time: the next one continues from here.
 * No endpoints: a quiet flow may wait a minute or more, hundreds of thousands at once when flows
 * open fast, and its next packet gives them again (endpointsOf(packet, up), `up` being relative
 * to the flow's client as the flow table says then).
 */
interface QuietFlow {
  readonly session: number;
  readonly dialog: number;
  readonly endUs: number;
}

export class DialogSegmenter<Notes> {
  private readonly open = new Map<number, OpenDialog<Notes>>();
  private readonly quiet = new Map<number, QuietFlow>();
  /** Open dialogs by the end time they had when queued; re-queued when they have moved on. */
  private readonly deadlines = new MinHeap();
  /** Quiet flows by the end of their last dialog, for onSessionEnd; stale once the flow spoke again. */
  private readonly sessionDeadlines = new MinHeap();

  constructor(
    private readonly gaps: SegmentationGaps,
    private readonly createNotes: () => Notes,
    private readonly onDialog: (dialog: Dialog<Notes>) => void,
    /**
     * Told when a quiet flow's session is complete: closeIdle found it idle for longer than the
     * session gap, so its next packet, if any, opens a new session. (A flow's end, which the
     * caller reports with endFlow(), ends its session too and is not reported here.)
     */
    private readonly onSessionEnd?: (flowId: number, session: number) => void,
  ) {
    if (!(gaps.dialogGapUs > 0) || !(gaps.sessionGapUs >= gaps.dialogGapUs)) {
      throw new RangeError(`gaps must satisfy 0 < dialog gap ≤ session gap, got dialog ${gaps.dialogGapUs} µs, session ${gaps.sessionGapUs} µs`);
    }
  }

  /**
   * Places a packet of flow `flowId` (as FlowTable.add reported it) into its dialog and
   * returns that dialog, for the caller to update its notes.
   */
  add(flowId: number, packet: Packet, up: boolean): OpenDialog<Notes> {
    const current = this.open.get(flowId);
    // Endpoints only for a flow with no open dialog: a dialog cut by its gap keeps its flow's.
    return this.addTo(flowId, current, packet.timestampUs, packet.originalLength, up, current === undefined ? endpointsOf(packet, up) : undefined);
  }

  /**
   * Whether a packet of flow `flowId` at `timeUs`, added now or after closeIdle() up to that
   * time, can open a dialog, and so needs its flow's endpoints (addAt).
   */
  mayOpen(flowId: number, timeUs: number): boolean {
    const current = this.open.get(flowId);
    return current === undefined || timeUs - current.endUs > this.gaps.dialogGapUs;
  }

  /**
   * add() from a packet's fields: for a caller that places a packet after it has read the next
   * one (DialogStream), when the reader has reused the packet. `endpoints` (endpointsOf the
   * packet) must be given whenever mayOpen(flowId, timeUs) was true.
   */
  addAt(flowId: number, time: number, lengthBytes: number, up: boolean, endpoints: FlowEndpoints | undefined): OpenDialog<Notes> {
    return this.addTo(flowId, this.open.get(flowId), time, lengthBytes, up, endpoints);
  }

  /** add() with the flow's open dialog, if any, already looked up (one map lookup a packet). */
  private addTo(flowId: number, open: OpenDialog<Notes> | undefined, time: number, lengthBytes: number, up: boolean, endpoints: FlowEndpoints | undefined): OpenDialog<Notes> {
    let current = open;
    if (current === undefined) {
      if (endpoints === undefined) throw new Error(`dialog segmenter: flow ${flowId} opens a dialog at ${time} µs, but its endpoints were not given`);
      const quiet = this.quiet.get(flowId);
      if (quiet === undefined) {
        current = new OpenDialog(flowId, endpoints, 1, 1, time, this.createNotes());
      } else {
        this.quiet.delete(flowId);
        const session = time - quiet.endUs > this.gaps.sessionGapUs ? quiet.session + 1 : quiet.session;
        current = new OpenDialog(flowId, endpoints, session, quiet.dialog + 1, time, this.createNotes());
      }
      this.open.set(flowId, current);
      this.deadlines.push(time, flowId);
    } else {
      const gap = time - current.endUs;
      if (gap > this.gaps.dialogGapUs) {
        this.onDialog(current.close());
        const session = gap > this.gaps.sessionGapUs ? current.session + 1 : current.session;
        current = new OpenDialog(flowId, current.flow, session, current.dialog + 1, time, this.createNotes());
        this.open.set(flowId, current);
        this.deadlines.push(time, flowId);
      }
    }
    if (up) {
      current.packetsUp++;
      current.bytesUp += lengthBytes;
    } else {
      current.packetsDown++;
      current.bytesDown += lengthBytes;
    }
    // Out-of-order timestamps never move a dialog's end backwards.
    if (time > current.endUs) current.endUs = time;
    return current;
  }

  /**
   * Closes every dialog idle for longer than the dialog gap at time `nowUs` (µs, capture time):
   * no later packet can join it, since that packet would open a new dialog anyway. Lets a
   * reader publish dialogs as soon as they are complete instead of at the next packet of
   * their flow. Amortised O(1) when nothing is due.
   */
  closeIdle(nowUs: number): void {
    const horizon = nowUs - this.gaps.dialogGapUs;
    while (this.deadlines.peekKey() < horizon) {
      const flowId = this.deadlines.pop()!;
      const current = this.open.get(flowId);
      if (current === undefined) continue;
      if (current.endUs >= horizon) {
        this.deadlines.push(current.endUs, flowId);
        continue;
      }
      this.open.delete(flowId);
      this.quiet.set(flowId, { session: current.session, dialog: current.dialog, endUs: current.endUs });
      if (this.onSessionEnd !== undefined) this.sessionDeadlines.push(current.endUs, flowId);
      this.onDialog(current.close());
    }
    if (this.onSessionEnd === undefined) return;
    const sessionHorizon = nowUs - this.gaps.sessionGapUs;
    while (this.sessionDeadlines.peekKey() < sessionHorizon) {
      const endUs = this.sessionDeadlines.peekKey();
      const flowId = this.sessionDeadlines.pop()!;
      // The flow may have spoken (and gone quiet) again since, or ended.
      const quiet = this.quiet.get(flowId);
      if (quiet?.endUs === endUs) this.onSessionEnd(flowId, quiet.session);
    }
  }

  /** Dialogs still open, for provisional labels. */
  openDialogs(): IterableIterator<OpenDialog<Notes>> {
    return this.open.values();
  }

  /** The flow ended (FlowTable emitted it): its open dialog is complete. */
  endFlow(flowId: number): void {
    this.quiet.delete(flowId);
    const current = this.open.get(flowId);
    if (current === undefined) return;
    this.open.delete(flowId);
    this.onDialog(current.close());
  }

  /** Emits every open dialog (end of input). */
  flush(): void {
    const remaining = [...this.open.values()].sort((left, right) => left.startUs - right.startUs || left.flowId - right.flowId);
    this.open.clear();
    this.quiet.clear();
    this.deadlines.clear();
    for (const dialog of remaining) this.onDialog(dialog.close());
  }
}
