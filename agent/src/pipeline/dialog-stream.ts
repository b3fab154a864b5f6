/**
 * The classifying pipeline as a stream: packets in, final dialog records out as soon as each
 * dialog is complete. A dialog is complete when its flow has been idle for longer than the
 * dialog gap in capture time (the newest packet's timestamp, or a later time the caller
 * vouches for, e.g. wall-clock time once a live file stops growing), or when its flow ends;
 * its record goes out once its context window (host-activity.ts: the other flows of its host
 * up to dialog gap after its end) is complete too, which for a dialog whose flow ended means
 * when capture time passes its end by the gap. Both `cumma classify` and the live agent run
 * this one class, so a dialog gets the same record in both, and memory holds only the open
 * dialogs, not the whole capture.
 */
import { Packet } from '../capture/packet';
import { extractFeatures } from '../features/extract-features';
import { DialogPacketLog } from '../features/dialog-packet-log';
import { ContextWindows } from '../features/host-activity';
import { FlowTable, FlowTableOptions, FlowTableStats } from '../flows/flow-table';
import { Dialog, FlowEndpoints } from '../segment/dialog';
import { DialogSegmenter, OpenDialog, endpointsOf } from '../segment/dialog-segmenter';
import { AwaitingVerdicts, DialogLabeler, DialogToLabel, TemporalMode } from './dialog-labeler';
import { DialogRecord } from './dialog-record';
import { FLOW_ENDED } from './session-end';
import { ModelHeader, UsageModel } from './usage-model';

export interface DialogStreamOptions {
  /** File name reported in every record. */
  readonly capture: string;
  /** The model labelling here; with handOff, which labels elsewhere, its gaps are enough. */
  readonly model: UsageModel | Pick<ModelHeader, 'gaps'>;
  /**
   * How labels use the session's other dialogs (dialog-labeler.ts; default `forward`, which the
   * live agent must use). With `viterbi` a record comes once its session is complete.
   */
  readonly temporal?: TemporalMode;
  readonly flows?: FlowTableOptions;
  /** Receives each final record, in the order dialogs complete. */
  readonly onFinal: (record: DialogRecord) => void;
  /** Sees each final dialog with its whole feature vector just before it is labelled (tests, exports). */
  readonly onFeatures?: (dialog: DialogToLabel) => void;
  /**
   * Set to label completed dialogs elsewhere (another thread: `cumma classify`): each batch of
   * dialogs, with the sessions that ended after them ((flow id, session) pairs, session-end.ts),
   * goes here in order instead of to the labeller, and onFinal is not called.
   */
  readonly handOff?: (dialogs: DialogToLabel[], endedSessions: number[]) => void;
}

/** What `cumma classify` and the live agent say about TimestampJumps (after "FILE: "). */
export function describeTimestampJumps(jumps: TimestampJumps, sessionGapUs: number): string {
  const ahead = ((jumps.firstStampedUs - jumps.firstCountedUs) / 1e6).toFixed(1);
  const packets = jumps.count === 1 ? '1 packet was' : `${jumps.count} packets were`;
  return (
    `${packets} stamped more than ${sessionGapUs / 1e6} s after both neighbouring packets (the first at byte offset ${jumps.firstBlockOffset}, ${ahead} s ahead): ` +
    "counted at the later neighbour's time, so as not to close other dialogs early (cumma flows keeps the stamps)"
  );
}

/** Closed dialogs are labelled in batches of this many (one classifier call each). */
const LABEL_BATCH = 256;

const IP_PROTOCOL_TCP = 6;

/**
 * The packet read last, not yet placed in its dialog: what placing it needs, copied out of the
 * reader's reused Packet. Whether its timestamp is a lone jump ahead (see TimestampJumps) is
 * known only from the packet after it.
 */
class HeldPacket {
  present = false;
  timeUs = 0;
  /** FlowTable's flow id, or < 0 for a packet of no flow (it still moves capture time). */
  flowId = -1;
  up = false;
  lengthBytes = 0;
  tcp = false;
  /** Given when the packet may open a dialog (DialogSegmenter.mayOpen). */
  endpoints: FlowEndpoints | undefined = undefined;
  blockOffset = 0;
}

/**
 * Packets stamped more than the session gap after both the packet before them and the packet
 * after them (a corrupt timestamp, a block written with another clock): each counted at the
 * later of its neighbours' times. The first is described for the message. The session gap, not
 * the dialog gap: files joined with `mergecap -a` put a packet a few seconds ahead of both of its
 * neighbours, and its own time is right there.
 */
export interface TimestampJumps {
  readonly count: number;
  /** File offset of the first such packet's block. */
  readonly firstBlockOffset: number;
  readonly firstStampedUs: number;
  /** The time the first one was counted at. */
  readonly firstCountedUs: number;
}

export class DialogStream {
  private readonly flows: FlowTable;
  private readonly segmenter: DialogSegmenter<DialogPacketLog>;
  /** Undefined when the dialogs are handed off. */
  private readonly labeler: DialogLabeler | undefined;
  private readonly awaiting = new AwaitingVerdicts();
  /** Context across flows (host-activity.ts). */
  private readonly context: ContextWindows<DialogToLabel>;
  /** Set while the flow table ends a flow: its last dialog may have to wait for its context. */
  private endingFlow = -1;
  private endingFlowDeferred = false;
  /** Ended flows whose last dialog waits for its context window. */
  private readonly flowEndsWaiting = new Set<number>();
  private pending: DialogToLabel[] = [];
  /** (flow id, session) pairs, session-end.ts: applied after the pending dialogs are labelled. */
  private endedSessions: number[] = [];
  private newestUs = -Infinity;
  private readonly held = new HeldPacket();
  /** How far ahead of both neighbours a packet must be stamped to count as a lone jump: the session gap. */
  private readonly jumpGapUs: number;
  /** Stamped time of the packet before the held one. */
  private previousStampUs = -Infinity;
  private jumps: TimestampJumps = { count: 0, firstBlockOffset: -1, firstStampedUs: 0, firstCountedUs: 0 };

  constructor(private readonly options: DialogStreamOptions) {
    this.jumpGapUs = options.model.gaps.sessionGapUs;
    if (options.handOff === undefined) {
      if (!(options.model instanceof UsageModel)) throw new Error('dialog stream: labelling here needs the whole model, not its gaps');
      this.labeler = new DialogLabeler(options.model, { temporal: options.temporal });
    }
    this.context = new ContextWindows<DialogToLabel>(options.model.gaps.dialogGapUs, (dialog) => {
      this.ready(dialog);
      // It waited because its flow ended: the flow's end follows its last dialog into the labeler.
      if (this.flowEndsWaiting.delete(dialog.flowId)) this.endedSessions.push(dialog.flowId, FLOW_ENDED);
    });
    this.segmenter = new DialogSegmenter(
      options.model.gaps,
      () => new DialogPacketLog(),
      (dialog) => this.closed(dialog),
      // After the session's last dialog (ready since its context window closed, a gap earlier).
      (flowId, session) => this.endedSessions.push(flowId, session),
    );
    this.flows = new FlowTable((_, flowId) => {
      this.endingFlow = flowId;
      this.endingFlowDeferred = false;
      this.segmenter.endFlow(flowId);
      this.endingFlow = -1;
      // A dialog waiting for its context window ends its flow in the labeler when it is labelled.
      if (!this.endingFlowDeferred) this.endedSessions.push(flowId, FLOW_ENDED);
    }, options.flows);
  }

  get stats(): Readonly<FlowTableStats> {
    return this.flows.stats;
  }

  /**
   * Capture time: the newest time a packet was counted at (µs), -Infinity before the first.
   * The last packet pushed is counted when the next one comes, or at advanceTo() or flush().
   */
  get newestPacketUs(): number {
    return this.newestUs;
  }

  /** Packets counted at their neighbours' time rather than their own (see TimestampJumps). */
  get timestampJumps(): TimestampJumps {
    return this.jumps;
  }

  /**
   * Reads a packet. One stamped more than the session gap after the packet before it is placed
   * in its dialog only when the next packet comes: a packet stamped far ahead of both neighbours
   * would otherwise move capture time there and close every open dialog (their flows' next
   * packets opening new ones); it is counted at the later neighbour's time instead. For captures
   * whose timestamps never go back this changes nothing.
   */
  push(packet: Packet): void {
    const time = packet.timestampUs;
    if (this.held.present) this.place(time);
    // The flow table keeps its own clock, robust to such packets, and may end flows here: the
    // packets before this one are already in their dialogs.
    this.flows.add(packet);
    const flowId = this.flows.lastFlowId;
    if (this.cannotBeJump(time)) {
      // Placed now, from the packet itself: the live agent's labels are not delayed by a packet
      // (p50 13 → 35 ms from write to client when every packet waited).
      this.previousStampUs = time;
      this.advanceClock(time);
      if (flowId < 0) return;
      const up = this.flows.lastPacketUp;
      this.count(this.segmenter.add(flowId, packet, up), time, packet.originalLength, up, packet.ipProtocol === IP_PROTOCOL_TCP);
      return;
    }
    // After a long pause: held until the next packet says whether it is a lone jump.
    const held = this.held;
    held.present = true;
    held.timeUs = time;
    held.flowId = flowId;
    held.blockOffset = packet.blockOffset;
    if (flowId < 0) return;
    const up = this.flows.lastPacketUp;
    held.up = up;
    held.lengthBytes = packet.originalLength;
    held.tcp = packet.ipProtocol === IP_PROTOCOL_TCP;
    held.endpoints = this.segmenter.mayOpen(flowId, time) ? endpointsOf(packet, up) : undefined;
  }

  /**
   * Whether a packet at `timeUs` cannot be a lone jump, whatever comes next: it is no more than
   * the session gap after the packet before it (or it is the first).
   */
  private cannotBeJump(timeUs: number): boolean {
    return timeUs - this.previousStampUs <= this.jumpGapUs || this.previousStampUs === -Infinity;
  }

  /** Places the held packet; `nextUs` is the stamped time of the packet after it (+∞: none known). */
  private place(nextUs: number): void {
    const held = this.held;
    held.present = false;
    const stamped = held.timeUs;
    const neighbours = Math.max(this.previousStampUs, nextUs);
    this.previousStampUs = stamped;
    let time = stamped;
    if (stamped - neighbours > this.jumpGapUs) {
      time = neighbours;
      if (this.jumps.count === 0) this.jumps = { count: 1, firstBlockOffset: held.blockOffset, firstStampedUs: stamped, firstCountedUs: time };
      else this.jumps = { ...this.jumps, count: this.jumps.count + 1 };
    }
    this.advanceClock(time);
    if (held.flowId < 0) return;
    const open = this.segmenter.addAt(held.flowId, time, held.lengthBytes, held.up, held.endpoints);
    held.endpoints = undefined;
    this.count(open, time, held.lengthBytes, held.up, held.tcp);
  }

  /** Capture time reaches `timeUs` (if later than before): what is idle by then is complete. */
  private advanceClock(timeUs: number): void {
    if (timeUs > this.newestUs) {
      this.newestUs = timeUs;
      this.context.advance(timeUs);
      this.segmenter.closeIdle(timeUs);
    }
  }

  /** A packet placed in `open`, counted in its notes and its host's context. */
  private count(open: OpenDialog<DialogPacketLog>, timeUs: number, lengthBytes: number, up: boolean, tcp: boolean): void {
    const log = open.notes;
    log.transport ??= tcp ? 'tcp' : 'udp';
    log.push(timeUs, lengthBytes, up);
    log.context = this.context.track(log.context, open.flow.client.ip, timeUs, lengthBytes, up, tcp);
    if (this.pending.length >= LABEL_BATCH) this.drain();
  }

  /**
   * Capture time is known to have reached `nowUs` with no packet since the newest one (a live
   * file that stopped growing): dialogs idle for longer than the gap by then are complete. A
   * packet still held (it came after a long pause) is counted at its own time if that is no
   * more than the session gap beyond `nowUs`: no packet that follows in a capture written as it
   * happens could make it a lone jump, so reading the file again later (a restarted agent)
   * places it the same way. One stamped further ahead waits for the next packet, or the end.
   */
  advanceTo(nowUs: number): void {
    if (this.held.present && this.held.timeUs - nowUs <= this.jumpGapUs) this.place(Infinity);
    this.context.advance(nowUs);
    this.segmenter.closeIdle(nowUs);
    this.drain();
  }

  /** Labels and emits the dialogs completed so far. */
  drain(): void {
    const { handOff } = this.options;
    if (handOff !== undefined) {
      if (this.pending.length === 0 && this.endedSessions.length === 0) return;
      const batch = this.pending;
      const ended = this.endedSessions;
      this.pending = [];
      this.endedSessions = [];
      handOff(batch, ended);
      return;
    }
    // Set by the constructor whenever nothing is handed off.
    const labeler = this.labeler!;
    if (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      this.awaiting.add(batch);
      labeler.label(batch);
    }
    // After the batch: a flow's dialogs are labelled before its sessions end (the batch may hold
    // dialogs of a flow's next session too, which is why an end names its session).
    const ended = this.endedSessions;
    for (let i = 0; i < ended.length; i += 2) labeler.endSession(ended[i]!, ended[i + 1]!);
    this.endedSessions = [];
    this.emitFinal(labeler);
  }

  private emitFinal(labeler: DialogLabeler): void {
    for (const record of labeler.recordsOf(labeler.takeVerdicts(), (handle) => this.awaiting.take(handle), 'final')) this.options.onFinal(record);
  }

  /** End of input: every open flow and dialog ends; all remaining records are emitted. */
  flush(): void {
    if (this.held.present) this.place(Infinity);
    this.flows.flush();
    this.segmenter.flush();
    this.context.flush();
    this.drain();
    // Handed off, the labelling side finishes (LabelingThread.finish()).
    if (this.labeler !== undefined) {
      this.labeler.finish();
      this.emitFinal(this.labeler);
    }
  }

  private ready(dialog: DialogToLabel): void {
    this.options.onFeatures?.(dialog);
    this.pending.push(dialog);
  }

  /** Open dialogs that `wanted` selects, labelled provisionally from their packets so far. */
  labelOpen(wanted: (dialog: OpenDialog<DialogPacketLog>) => boolean): DialogRecord[] {
    // Earlier dialogs of their sessions first, so that the provisional labels see them.
    this.drain();
    const selected: DialogToLabel[] = [];
    for (const open of this.segmenter.openDialogs()) {
      if (!wanted(open)) continue;
      const { notes, ...rest } = open.close();
      const features = extractFeatures(notes);
      if (notes.context !== undefined) this.context.writeSoFar(notes.context, rest, features);
      selected.push({ ...rest, capture: this.options.capture, features });
    }
    if (this.labeler === undefined) throw new Error('dialog stream: provisional labels are made where the dialogs are labelled, and they are handed off');
    return this.labeler.labelProvisional(selected);
  }

  private closed(dialog: Dialog<DialogPacketLog>): void {
    // Field by field rather than `{ ...rest }`: one dialog per call, tens of thousands a second.
    const toLabel: DialogToLabel = {
      flowId: dialog.flowId,
      flow: dialog.flow,
      session: dialog.session,
      dialog: dialog.dialog,
      startUs: dialog.startUs,
      endUs: dialog.endUs,
      packets: dialog.packets,
      bytes: dialog.bytes,
      capture: this.options.capture,
      features: extractFeatures(dialog.notes),
    };
    if (this.context.closed(dialog.notes.context!, dialog, toLabel.features, toLabel)) this.ready(toLabel);
    else if (dialog.flowId === this.endingFlow) {
      this.endingFlowDeferred = true;
      this.flowEndsWaiting.add(dialog.flowId);
    }
  }
}
