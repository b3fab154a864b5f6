// `npm run eval:real`: scores the shipped model (or --model M) on the real captures of
// ../shared/real-captures/ndpi, which are development material and never part of the tests:
//  1. flow level: each flow's group (the coarse group carrying most of its bytes among its
//     dialogs) against flows.tsv's reference label, in DESIGN.md's coarse groups;
//  2. capture level: for captures labelled as one usage, the group carrying most bytes among
//     dialogs not classed `other` against the capture's own group.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { COARSE_GROUPS, CoarseGroup, coarseGroupOf } from '../agent/src/labels';
import { captureDialogs } from '../agent/src/pipeline/capture-dialogs';
import { DialogRecord } from '../agent/src/pipeline/dialog-record';
import { groupBy } from '../agent/src/pipeline/evaluation';
import { UsageModel } from '../agent/src/pipeline/usage-model';

const ROOT = resolve(__dirname, '..');
const DATA = resolve(ROOT, '..', 'shared', 'real-captures', 'ndpi');

/** flows.tsv's reference labels in coarse groups; call_signalling and blanks are not scored. */
const REFERENCE_GROUP: Readonly<Record<string, CoarseGroup | undefined>> = {
  text: 'chat',
  media: 'media',
  call: 'call',
  voice_call: 'call',
  video_call: 'call',
  streaming: 'streaming',
  other: 'other',
};

const CAPTURE_GROUP: Readonly<Record<string, CoarseGroup | undefined>> = {
  chat: 'chat',
  voice_call: 'call',
  video_call: 'call',
  call_unspecified: 'call',
  media_transfer: 'media',
  streaming: 'streaming',
};

type Verdict = CoarseGroup | 'unknown';

function groupOf(record: DialogRecord): Verdict {
  return record.usage === 'unknown' ? 'unknown' : coarseGroupOf(record.usage);
}

function endpointKey(l4: string, ipA: string, portA: number, ipB: string, portB: number): string {
  const a = `${ipA}|${portA}`;
  const b = `${ipB}|${portB}`;
  return `${l4.toLowerCase()}|${a < b ? a : b}|${a < b ? b : a}`;
}

/** The verdict carrying most bytes among `records` (optionally leaving some out). */
function dominant(records: readonly DialogRecord[], skip: (verdict: Verdict) => boolean = () => false): Verdict | undefined {
  const bytes = new Map<Verdict, number>();
  for (const record of records) {
    const verdict = groupOf(record);
    if (skip(verdict)) continue;
    bytes.set(verdict, (bytes.get(verdict) ?? 0) + record.bytes.up + record.bytes.down);
  }
  let best: Verdict | undefined;
  for (const [verdict, total] of bytes) if (best === undefined || total > bytes.get(best)!) best = verdict;
  return best;
}

class Confusion {
  private readonly counts = new Map<string, number>();
  add(truth: CoarseGroup, predicted: Verdict | undefined): void {
    const key = `${truth}>${predicted ?? 'none'}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  private count(truth: string, predicted: string): number {
    return this.counts.get(`${truth}>${predicted}`) ?? 0;
  }
  render(title: string): string {
    const columns = [...COARSE_GROUPS, 'unknown', 'none'];
    const lines = [title, `${'group'.padEnd(10)} ${'precision'.padStart(9)} ${'recall'.padStart(7)} ${'f1'.padStart(6)} ${'support'.padStart(8)}`];
    const f1s: number[] = [];
    for (const group of COARSE_GROUPS) {
      const support = columns.reduce((sum, column) => sum + this.count(group, column), 0);
      const predicted = COARSE_GROUPS.reduce((sum, truth) => sum + this.count(truth, group), 0);
      const correct = this.count(group, group);
      if (support === 0 && predicted === 0) continue;
      const precision = predicted ? correct / predicted : 0;
      const recall = support ? correct / support : 0;
      const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
      f1s.push(f1);
      lines.push(`${group.padEnd(10)} ${precision.toFixed(3).padStart(9)} ${recall.toFixed(3).padStart(7)} ${f1.toFixed(3).padStart(6)} ${String(support).padStart(8)}`);
    }
    lines.push(`macro-F1 ${(f1s.reduce((a, b) => a + b, 0) / Math.max(1, f1s.length)).toFixed(3)}`, '', `confusion (rows: reference, columns: predicted)`);
    lines.push(`${''.padEnd(10)}${columns.map((c) => c.padStart(10)).join('')}`);
    for (const group of COARSE_GROUPS) lines.push(`${group.padEnd(10)}${columns.map((c) => String(this.count(group, c)).padStart(10)).join('')}`);
    return lines.join('\n');
  }
}

function main(): number {
  const modelIndex = process.argv.indexOf('--model');
  const modelPath = modelIndex >= 0 ? process.argv[modelIndex + 1]! : join(ROOT, 'models', 'default.json');
  if (!existsSync(join(DATA, 'flows.tsv'))) {
    process.stderr.write(`eval:real: ${DATA} not found (the real captures live beside the repository, in ../shared)\n`);
    return 2;
  }
  const model = UsageModel.load(modelPath);
  const flowRows = readFileSync(join(DATA, 'flows.tsv'), 'utf8').trim().split('\n').slice(1).map((line) => line.split('\t'));
  const captureLabels = new Map(readFileSync(join(DATA, 'labels.tsv'), 'utf8').trim().split('\n').slice(1).map((line) => line.split('\t')).map((f) => [f[0]!, f[2]!] as const));
  const flowConfusion = new Confusion();
  const captureConfusion = new Confusion();
  const captureLines: string[] = [];
  for (const file of readdirSync(DATA).filter((name) => /\.pcap(ng)?$/.test(name)).sort()) {
    const records = model.classify(captureDialogs(join(DATA, file), { gaps: model.gaps, truth: false }));
    const byFlow = groupBy(records, (record) => endpointKey(record.l4, record.client.ip, record.client.port, record.server.ip, record.server.port));
    for (const row of flowRows.filter((r) => r[0] === file)) {
      const reference = REFERENCE_GROUP[row[12] ?? ''];
      if (reference === undefined) continue;
      const flowRecords = byFlow.get(endpointKey(row[1]!, row[2]!, Number(row[3]), row[4]!, Number(row[5])));
      flowConfusion.add(reference, flowRecords ? dominant(flowRecords) : undefined);
    }
    const captureGroup = CAPTURE_GROUP[captureLabels.get(file) ?? ''];
    if (captureGroup !== undefined) {
      const predicted = dominant(records, (verdict) => verdict === 'other' || verdict === 'unknown');
      captureConfusion.add(captureGroup, predicted);
      captureLines.push(`  ${file.padEnd(34)} ${captureGroup.padEnd(10)} → ${predicted ?? 'none'}`);
    }
  }
  process.stdout.write(`Model ${model.name} on ${DATA}\n\n${flowConfusion.render('1. Flows against flows.tsv (coarse groups; call_signalling and blank labels left out)')}\n\n`);
  process.stdout.write(`${captureConfusion.render('2. Captures labelled as one usage: dominant group among dialogs not classed other')}\n\n${captureLines.join('\n')}\n`);
  return 0;
}

process.exitCode = main();
