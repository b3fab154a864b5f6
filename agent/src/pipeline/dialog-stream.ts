/**
 * The classifying pipeline as a stream: packets in, final dialog records out as soon as each
 * dialog is complete. A dialog is complete when its flow has been idle for longer than the
 * dialog gap in capture time (the newest packet's timestamp, or a later time the caller
 * vouches for, e.g. wall-clock time once a live file stops growing), or when its flow ends.
 * Both `cumma classify` and the live agent run this one class, so a dialog gets the same
 * record in both, and memory holds only the open dialogs, not the whole capture.
 */
import { Packet } from '../capture/packet';
import { extractFeatures } from '../features/extract-features';
import { DialogPacketLog } from '../features/dialog-packet-log';
import { FlowTable, FlowTableOptions, FlowTableStats } from '../flows/flow-table';
import { Dialog } from '../segment/dialog';
import { DialogSegmenter, OpenDialog } from '../segment/dialog-segmenter';
import { DialogLabeler, DialogToLabel } from './dialog-labeler';
import { DialogRecord } from './dialog-record';
import { UsageModel } from './usage-model';

export interface DialogStreamOptions {
  /** File name reported in every record. */
  readonly capture: string;
  readonly model: UsageModel;
  /** Forward filtering along sessions (default true). */
  readonly temporal?: boolean;
  readonly flows?: FlowTableOptions;
  /** Receives each final record, in the order dialogs complete. */
  readonly onFinal: (record: DialogRecord) => void;
}

/** Closed dialogs are labelled in batches of this many (one classifier call each). */
const LABEL_BATCH = 256;

export class DialogStream {
  private readonly flows: FlowTable;
  private readonly segmenter: DialogSegmenter<DialogPacketLog>;
  private readonly labeler: DialogLabeler;
  private pending: DialogToLabel[] = [];
  private endedFlows: number[] = [];
  private newestUs = -Infinity;

  constructor(private readonly options: DialogStreamOptions) {
    this.labeler = new DialogLabeler(options.model, { temporal: options.temporal });
    this.segmenter = new DialogSegmenter(options.model.gaps, () => new DialogPacketLog(), (dialog) => this.closed(dialog));
    this.flows = new FlowTable((_, flowId) => {
      this.segmenter.endFlow(flowId);
      this.endedFlows.push(flowId);
    }, options.flows);
  }

  get stats(): Readonly<FlowTableStats> {
    return this.flows.stats;
  }

  /** Timestamp of the newest packet pushed (µs), -Infinity before the first. */
  get newestPacketUs(): number {
    return this.newestUs;
  }

  push(packet: Packet): void {
    const time = packet.timestampUs;
    if (time > this.newestUs) {
      this.newestUs = time;
      this.segmenter.closeIdle(time);
    }
    this.flows.add(packet);
    const flowId = this.flows.lastFlowId;
    if (flowId < 0) return;
    const up = this.flows.lastPacketUp;
    this.segmenter.add(flowId, packet, up).notes.add(packet, up);
    if (this.pending.length >= LABEL_BATCH) this.drain();
  }

  /**
   * Capture time is known to have reached `nowUs` with no packet since the newest one (a live
   * file that stopped growing): dialogs idle for longer than the gap by then are complete.
   */
  advanceTo(nowUs: number): void {
    this.segmenter.closeIdle(nowUs);
    this.drain();
  }

  /** Labels and emits the dialogs completed so far. */
  drain(): void {
    if (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      for (const record of this.labeler.labelFinal(batch)) this.options.onFinal(record);
    }
    // After the batch: a flow's dialogs are labelled before its session beliefs are dropped.
    for (const flowId of this.endedFlows) this.labeler.endFlow(flowId);
    this.endedFlows = [];
  }

  /** End of input: every open flow and dialog ends; all remaining records are emitted. */
  flush(): void {
    this.flows.flush();
    this.segmenter.flush();
    this.drain();
  }

  /** Open dialogs that `wanted` selects, labelled provisionally from their packets so far. */
  labelOpen(wanted: (dialog: OpenDialog<DialogPacketLog>) => boolean): DialogRecord[] {
    // Earlier dialogs of their sessions first, so that the provisional labels see them.
    this.drain();
    const selected: DialogToLabel[] = [];
    for (const open of this.segmenter.openDialogs()) {
      if (!wanted(open)) continue;
      const { notes, ...rest } = open.close();
      selected.push({ ...rest, capture: this.options.capture, features: extractFeatures(notes) });
    }
    return this.labeler.labelProvisional(selected);
  }

  private closed(dialog: Dialog<DialogPacketLog>): void {
    // Field by field rather than `{ ...rest }`: one dialog per call, tens of thousands a second.
    this.pending.push({
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
    });
  }
}
