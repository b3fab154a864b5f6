/**
 * Scoring on the real captures in DESIGN.md's coarse groups (issue 4, `npm run eval:real`):
 *  1. flow level: each flow's verdict (the coarse group carrying most of its bytes among its
 *     dialogs) against flows.tsv's reference label, blank and call_signalling rows left out, and
 *     rows of other protocols than TCP and UDP (ICMP, IGMP: 37 `other` rows, never a flow of
 *     ours, since DESIGN.md's flows are TCP/UDP) counted apart;
 *  2. capture level: for captures labelled as one usage, the group carrying most bytes among
 *     dialogs not classed `other` (nor `unknown`) against the capture's own group.
 */
import { DialogPacketLog } from '../../agent/src/features/dialog-packet-log';
import { extractFeatures } from '../../agent/src/features/extract-features';
import { COARSE_GROUPS, CoarseGroup, coarseGroupOf } from '../../agent/src/labels';
import { DialogRecord } from '../../agent/src/pipeline/dialog-record';
import { UsageModel } from '../../agent/src/pipeline/usage-model';
import { segmentFlowLogs } from './flow-log-corpus';
import { CAPTURE_GROUP, REFERENCE_GROUP, RealCapture, flowKeyOf } from './real-captures';

export type CoarseVerdict = CoarseGroup | 'unknown';

export function coarseVerdictOf(record: Pick<DialogRecord, 'usage'>): CoarseVerdict {
  return record.usage === 'unknown' ? 'unknown' : coarseGroupOf(record.usage);
}

/** The verdict carrying most bytes among `records` (optionally leaving some out); ties: first seen. */
export function dominantVerdict(
  records: readonly Pick<DialogRecord, 'usage' | 'bytes'>[],
  skip: (verdict: CoarseVerdict) => boolean = () => false,
): CoarseVerdict | undefined {
  const bytes = new Map<CoarseVerdict, number>();
  for (const record of records) {
    const verdict = coarseVerdictOf(record);
    if (skip(verdict)) continue;
    bytes.set(verdict, (bytes.get(verdict) ?? 0) + record.bytes.up + record.bytes.down);
  }
  let best: CoarseVerdict | undefined;
  for (const [verdict, total] of bytes) if (best === undefined || total > bytes.get(best)!) best = verdict;
  return best;
}

export interface GroupScore {
  readonly group: CoarseGroup;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly support: number;
}

/** Coarse confusion counts: rows are reference groups, columns verdicts (plus `none`: no dialog). */
export class CoarseConfusion {
  private readonly counts = new Map<string, number>();

  add(truth: CoarseGroup, predicted: CoarseVerdict | undefined): void {
    const key = `${truth}>${predicted ?? 'none'}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  count(truth: string, predicted: string): number {
    return this.counts.get(`${truth}>${predicted}`) ?? 0;
  }

  /** Per group with support or predictions: precision, recall, F1 (0 for a zero denominator). */
  scores(): GroupScore[] {
    const columns = [...COARSE_GROUPS, 'unknown', 'none'];
    const out: GroupScore[] = [];
    for (const group of COARSE_GROUPS) {
      const support = columns.reduce((sum, column) => sum + this.count(group, column), 0);
      const predicted = COARSE_GROUPS.reduce((sum, truth) => sum + this.count(truth, group), 0);
      const correct = this.count(group, group);
      if (support === 0 && predicted === 0) continue;
      const precision = predicted ? correct / predicted : 0;
      const recall = support ? correct / support : 0;
      const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
      out.push({ group, precision, recall, f1, support });
    }
    return out;
  }

  /** Mean F1 over the groups scores() lists. */
  macroF1(): number {
    const scores = this.scores();
    return scores.reduce((sum, s) => sum + s.f1, 0) / Math.max(1, scores.length);
  }

  render(title: string): string {
    const columns = [...COARSE_GROUPS, 'unknown', 'none'];
    const lines = [title, `${'group'.padEnd(10)} ${'precision'.padStart(9)} ${'recall'.padStart(7)} ${'f1'.padStart(6)} ${'support'.padStart(8)}`];
    for (const s of this.scores()) {
      lines.push(`${s.group.padEnd(10)} ${s.precision.toFixed(3).padStart(9)} ${s.recall.toFixed(3).padStart(7)} ${s.f1.toFixed(3).padStart(6)} ${String(s.support).padStart(8)}`);
    }
    lines.push(`macro-F1 ${this.macroF1().toFixed(3)}`, '', 'confusion (rows: reference, columns: predicted)');
    lines.push(`${''.padEnd(10)}${columns.map((c) => c.padStart(10)).join('')}`);
    for (const group of COARSE_GROUPS) lines.push(`${group.padEnd(10)}${columns.map((c) => String(this.count(group, c)).padStart(10)).join('')}`);
    return lines.join('\n');
  }
}

export interface RealScores {
  /** flows.tsv rows left out because they are not TCP or UDP (ICMP, IGMP: no flow of ours). */
  readonly skippedNonTransport: { count: number };
  readonly flows: CoarseConfusion;
  readonly captures: CoarseConfusion;
  /** One line per capture with a capture-level label: file, its group, the verdict. */
  readonly captureLines: string[];
}

export function emptyRealScores(): RealScores {
  return { skippedNonTransport: { count: 0 }, flows: new CoarseConfusion(), captures: new CoarseConfusion(), captureLines: [] };
}

/** Classifies one capture with `model` (its own gaps) and adds it to both tables. */
export function scoreRealCapture(
  model: UsageModel,
  capture: RealCapture,
  scores: RealScores,
  extract: (log: DialogPacketLog) => Float64Array = extractFeatures,
): void {
  const dialogs = segmentFlowLogs(capture.flows, model.gaps, extract);
  const records = model.classify(dialogs);
  // Our flows by 5-tuple: a flows.tsv row takes every flow of ours with its 5-tuple.
  const keyOfFlow = new Map(capture.flows.map((flow) => [flow.flowId, flowKeyOf(flow)] as const));
  const byKey = new Map<string, DialogRecord[]>();
  dialogs.forEach((dialog, index) => {
    const key = keyOfFlow.get(dialog.flowId)!;
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [records[index]!]);
    else list.push(records[index]!);
  });
  for (const row of capture.rows) {
    const reference = REFERENCE_GROUP[row.label];
    if (reference === undefined) continue;
    if (!row.key.startsWith('tcp|') && !row.key.startsWith('udp|')) {
      // DESIGN.md's flows are TCP/UDP: the product never sees these, so they are not scored.
      scores.skippedNonTransport.count++;
      continue;
    }
    const flowRecords = byKey.get(row.key);
    scores.flows.add(reference, flowRecords ? dominantVerdict(flowRecords) : undefined);
  }
  const captureGroup = CAPTURE_GROUP[capture.label];
  if (captureGroup !== undefined) {
    const predicted = dominantVerdict(records, (verdict) => verdict === 'other' || verdict === 'unknown');
    scores.captures.add(captureGroup, predicted);
    scores.captureLines.push(`  ${capture.file.padEnd(34)} ${captureGroup.padEnd(10)} → ${predicted ?? 'none'}`);
  }
}
