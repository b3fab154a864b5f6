/**
 * Captures reduced to what the model chain needs after the flow table: per flow, every packet's
 * time, original frame length, direction and truth label, in arrival order. Segmenting those
 * logs into sessions and dialogs again (segmentFlowLogs) gives exactly the dialogs
 * captureDialogs() gives for the same gaps, without reading or simulating captures again: what
 * makes gap and feature experiments, and cross-validation over the real captures, cheap.
 *
 * Flows come from the project's own FlowTable (agent/src/segment/segment-capture.ts with gaps
 * that never cut), so flow splits (idle timeout, TCP SYN after FIN) are the product's.
 */
import { readFileSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { DialogPacketLog } from '../../agent/src/features/dialog-packet-log';
import { extractFeatures } from '../../agent/src/features/extract-features';
import { ContextWindow, ContextWindows } from '../../agent/src/features/host-activity';
import { MinHeap } from '../../agent/src/common/min-heap';
import { USAGE_CLASSES, UsageClass } from '../../agent/src/labels';
import { CaptureDialog } from '../../agent/src/pipeline/capture-dialogs';
import { FlowEndpoints, SegmentationGaps } from '../../agent/src/segment/dialog';
import { segmentCapture } from '../../agent/src/segment/segment-capture';
import { parseTruthComment } from '../../agent/src/truth/truth-comment';

/** One flow's packets: parallel columns in arrival order. label: 0 none, else USAGE_CLASSES index + 1. */
export interface FlowLog {
  readonly capture: string;
  readonly flowId: number;
  readonly flow: FlowEndpoints;
  readonly times: Float64Array;
  readonly lengths: Uint32Array;
  readonly up: Uint8Array;
  readonly labels: Uint8Array;
}

const NEVER: SegmentationGaps = { sessionGapUs: Infinity, dialogGapUs: Infinity };

class Columns {
  times: number[] = [];
  lengths: number[] = [];
  up: number[] = [];
  labels: number[] = [];
}

/** The flows of one capture file; `capture` names them (default: the file name). */
export function readFlowLogs(path: string, capture = path.split(/[\\/]/).pop() ?? path, truth = true): FlowLog[] {
  const flows: FlowLog[] = [];
  segmentCapture<Columns>(
    path,
    NEVER,
    () => new Columns(),
    (notes, packet, up) => {
      notes.times.push(packet.timestampUs);
      notes.lengths.push(packet.originalLength);
      notes.up.push(up ? 1 : 0);
      let label = 0;
      if (truth) {
        for (const comment of packet.comments) {
          const parsed = parseTruthComment(comment);
          if (parsed !== undefined) label = USAGE_CLASSES.indexOf(parsed.usage) + 1;
        }
      }
      notes.labels.push(label);
    },
    (dialog) => {
      const c = dialog.notes;
      flows.push({
        capture,
        flowId: dialog.flowId,
        flow: dialog.flow,
        times: Float64Array.from(c.times),
        lengths: Uint32Array.from(c.lengths),
        up: Uint8Array.from(c.up),
        labels: Uint8Array.from(c.labels),
      });
    },
  );
  return flows.sort((a, b) => a.flowId - b.flowId);
}

/**
 * Sessions and dialogs of each flow, as DialogSegmenter cuts them (a gap strictly longer than
 * the dialog gap opens a dialog, longer than the session gap a session; dialog numbers run on
 * across sessions), with features and the majority truth label, as captureDialogs() returns them
 * (in flow order). The context features come from replaying each capture's flows merged by
 * packet time through the same ContextWindows the streaming paths use (host-activity.ts).
 */
export function segmentFlowLogs(
  flows: readonly FlowLog[],
  gaps: SegmentationGaps,
  extract: (log: DialogPacketLog) => Float64Array = extractFeatures,
): CaptureDialog[] {
  const dialogs: CaptureDialog[] = [];
  /** Per flow, the packet index where each of its dialogs ends (exclusive), in dialog order. */
  const ends: number[][] = [];
  const firstDialog: number[] = [];
  for (const flow of flows) {
    const n = flow.times.length;
    const flowEnds: number[] = [];
    ends.push(flowEnds);
    firstDialog.push(dialogs.length);
    let start = 0;
    let session = 1;
    let dialog = 1;
    let lastUs = flow.times[0]!;
    for (let i = 1; i <= n; i++) {
      const gap = i < n ? flow.times[i]! - lastUs : Infinity;
      if (i === n || gap > gaps.dialogGapUs) {
        dialogs.push(dialogOf(flow, start, i, session, dialog, extract));
        flowEnds.push(i);
        if (i === n) break;
        if (gap > gaps.sessionGapUs) session++;
        dialog++;
        start = i;
      }
      // The segmenter measures gaps from the latest packet time seen (arrival order).
      lastUs = Math.max(lastUs, flow.times[i]!);
    }
  }
  if (Number.isFinite(gaps.dialogGapUs)) {
    // One capture at a time (flows of a capture are consecutive in corpora, but need not be).
    const byCapture = new Map<string, number[]>();
    flows.forEach((flow, index) => {
      const list = byCapture.get(flow.capture);
      if (list === undefined) byCapture.set(flow.capture, [index]);
      else list.push(index);
    });
    for (const members of byCapture.values()) replayContext(flows, members, ends, firstDialog, dialogs, gaps.dialogGapUs);
  }
  return dialogs;
}

/**
 * Feeds one capture's packets, all flows merged in time order (each flow's in arrival order),
 * through ContextWindows as DialogStream does, and writes each dialog's context features.
 */
function replayContext(flows: readonly FlowLog[], members: readonly number[], ends: readonly number[][], firstDialog: readonly number[], dialogs: readonly CaptureDialog[], gapUs: number): void {
  const windows = new ContextWindows<undefined>(gapUs, () => {});
  const heap = new MinHeap(members.length);
  const next = new Int32Array(members.length);
  const dialogOfFlow = new Int32Array(members.length);
  const open: (ContextWindow | undefined)[] = new Array<ContextWindow | undefined>(members.length);
  members.forEach((flowIndex, m) => {
    if (flows[flowIndex]!.times.length > 0) heap.push(flows[flowIndex]!.times[0]!, m);
  });
  while (heap.size > 0) {
    const m = heap.pop()!;
    const flowIndex = members[m]!;
    const flow = flows[flowIndex]!;
    const i = next[m]!;
    const time = flow.times[i]!;
    const length = flow.lengths[i]!;
    const up = flow.up[i] === 1;
    const tcp = flow.flow.l4 === 'tcp';
    windows.advance(time);
    const k = dialogOfFlow[m]!;
    const dialogEnd = ends[flowIndex]![k]!;
    const dialogStart = k === 0 ? 0 : ends[flowIndex]![k - 1]!;
    const window = windows.track(i === dialogStart ? undefined : open[m], flow.flow.client.ip, time, length, up, tcp);
    open[m] = window;
    if (i + 1 === dialogEnd) {
      const dialog = dialogs[firstDialog[flowIndex]! + k]!;
      windows.closed(window, dialog, dialog.features, undefined);
      dialogOfFlow[m] = k + 1;
    }
    next[m] = i + 1;
    if (i + 1 < flow.times.length) heap.push(flow.times[i + 1]!, m);
  }
  windows.flush();
}

function dialogOf(flow: FlowLog, from: number, to: number, session: number, dialog: number, extract: (log: DialogPacketLog) => Float64Array): CaptureDialog {
  const log = new DialogPacketLog(flow.flow.l4);
  const packets = { up: 0, down: 0 };
  const bytes = { up: 0, down: 0 };
  const votes = new Map<number, number>();
  const startUs = flow.times[from]!;
  let endUs = startUs;
  for (let i = from; i < to; i++) {
    const up = flow.up[i] === 1;
    const length = flow.lengths[i]!;
    const time = flow.times[i]!;
    log.push(time, length, up);
    if (up) {
      packets.up++;
      bytes.up += length;
    } else {
      packets.down++;
      bytes.down += length;
    }
    endUs = Math.max(endUs, time);
    const label = flow.labels[i]!;
    if (label > 0) votes.set(label, (votes.get(label) ?? 0) + 1);
  }
  let truth: UsageClass | undefined;
  let best = 0;
  for (const [label, count] of votes) {
    if (count > best) {
      best = count;
      truth = USAGE_CLASSES[label - 1];
    }
  }
  return {
    flowId: flow.flowId,
    flow: flow.flow,
    session,
    dialog,
    startUs,
    endUs,
    packets,
    bytes,
    capture: flow.capture,
    features: extract(log),
    truth,
    mixed: votes.size > 1,
  };
}

// Binary cache: a JSON header line (captures' flows without columns), then the columns.
interface FlowHeader {
  readonly capture: string;
  readonly flowId: number;
  readonly flow: FlowEndpoints;
  readonly packets: number;
}

export function saveFlowLogs(path: string, flows: readonly FlowLog[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const header: FlowHeader[] = flows.map((f) => ({ capture: f.capture, flowId: f.flowId, flow: f.flow, packets: f.times.length }));
  const total = header.reduce((sum, h) => sum + h.packets, 0);
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const body = Buffer.alloc(8 + headerBytes.length + total * 14);
  body.writeUInt32LE(headerBytes.length, 0);
  body.writeUInt32LE(total, 4);
  headerBytes.copy(body, 8);
  let at = 8 + headerBytes.length;
  const times = new Float64Array(total);
  const lengths = new Uint32Array(total);
  const up = new Uint8Array(total);
  const labels = new Uint8Array(total);
  let k = 0;
  for (const f of flows) {
    times.set(f.times, k);
    lengths.set(f.lengths, k);
    up.set(f.up, k);
    labels.set(f.labels, k);
    k += f.times.length;
  }
  for (const column of [times, lengths, up, labels]) {
    Buffer.from(column.buffer, column.byteOffset, column.byteLength).copy(body, at);
    at += column.byteLength;
  }
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, body);
  renameSync(temporary, path);
}

export function loadFlowLogs(path: string): FlowLog[] {
  const body = readFileSync(path);
  const headerLength = body.readUInt32LE(0);
  const total = body.readUInt32LE(4);
  const header = JSON.parse(body.subarray(8, 8 + headerLength).toString('utf8')) as FlowHeader[];
  let at = 8 + headerLength;
  const take = (bytes: number): ArrayBuffer => {
    const copy = new ArrayBuffer(bytes);
    new Uint8Array(copy).set(body.subarray(at, at + bytes));
    at += bytes;
    return copy;
  };
  const times = new Float64Array(take(total * 8));
  const lengths = new Uint32Array(take(total * 4));
  const up = new Uint8Array(take(total));
  const labels = new Uint8Array(take(total));
  let k = 0;
  return header.map((h) => {
    const flow: FlowLog = {
      capture: h.capture,
      flowId: h.flowId,
      flow: h.flow,
      times: times.subarray(k, k + h.packets),
      lengths: lengths.subarray(k, k + h.packets),
      up: up.subarray(k, k + h.packets),
      labels: labels.subarray(k, k + h.packets),
    };
    k += h.packets;
    return flow;
  });
}
