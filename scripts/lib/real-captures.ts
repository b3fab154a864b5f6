/**
 * The real captures of ../shared/real-captures/ndpi (development material: read in place, never
 * copied into the repository, never needed by the tests): each capture's flows as packet logs
 * (flow-log-corpus.ts), its capture-level label from labels.tsv, and the reference labels of
 * flows.tsv in DESIGN.md's coarse groups.
 *
 * flows.tsv labels are heuristic (its README): read them as reference, not gold. A row names a
 * flow by its 5-tuple; every flow of ours with that 5-tuple (our flow table may split where
 * nDPI does not) takes the row's label.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CoarseGroup } from '../../agent/src/labels';
import { FlowLog, readFlowLogs } from './flow-log-corpus';

export const REAL_CAPTURES_DIR = resolve(__dirname, '..', '..', 'shared', 'real-captures', 'ndpi');

/** flows.tsv's reference labels in coarse groups; call_signalling and blanks are not scored. */
export const REFERENCE_GROUP: Readonly<Record<string, CoarseGroup | undefined>> = {
  text: 'chat',
  media: 'media',
  call: 'call',
  voice_call: 'call',
  video_call: 'call',
  streaming: 'streaming',
  other: 'other',
};

/** labels.tsv's capture labels that name one usage, in coarse groups. */
export const CAPTURE_GROUP: Readonly<Record<string, CoarseGroup | undefined>> = {
  chat: 'chat',
  voice_call: 'call',
  video_call: 'call',
  call_unspecified: 'call',
  media_transfer: 'media',
  streaming: 'streaming',
};

export interface RealCapture {
  readonly file: string;
  /** labels.tsv's label (chat, voice_call, …, mixed, app_generic, location). */
  readonly label: string;
  readonly flows: readonly FlowLog[];
  /** flows.tsv's label per flow of `flows` (same index), as written there ('' when blank or absent). */
  readonly flowLabels: readonly string[];
  /** flows.tsv's rows of this capture: the 5-tuple key (flowKey) and the label. */
  readonly rows: readonly { readonly key: string; readonly label: string }[];
}

export function flowKey(l4: string, ipA: string, portA: number, ipB: string, portB: number): string {
  const a = `${ipA}|${portA}`;
  const b = `${ipB}|${portB}`;
  return `${l4.toLowerCase()}|${a < b ? a : b}|${a < b ? b : a}`;
}

export function flowKeyOf(flow: FlowLog): string {
  const { l4, client, server } = flow.flow;
  return flowKey(l4, client.ip, client.port, server.ip, server.port);
}

export function realCapturesAvailable(dir = REAL_CAPTURES_DIR): boolean {
  return existsSync(join(dir, 'flows.tsv')) && existsSync(join(dir, 'labels.tsv'));
}

function readTsv(path: string): string[][] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split('\t'));
}

/** Every capture of `dir` with its flows and labels, in file-name order. */
export function readRealCaptures(dir = REAL_CAPTURES_DIR): RealCapture[] {
  const captureLabels = new Map(readTsv(join(dir, 'labels.tsv')).map((f) => [f[0]!, f[2] ?? ''] as const));
  const flowLabels = new Map<string, string>();
  const rows = new Map<string, { key: string; label: string }[]>();
  for (const row of readTsv(join(dir, 'flows.tsv'))) {
    const key = flowKey(row[1]!, row[2]!, Number(row[3]), row[4]!, Number(row[5]));
    flowLabels.set(`${row[0]}\u0000${key}`, row[12] ?? '');
    const list = rows.get(row[0]!) ?? [];
    list.push({ key, label: row[12] ?? '' });
    rows.set(row[0]!, list);
  }
  return readdirSync(dir)
    .filter((name) => /\.pcap(ng)?$/.test(name))
    .sort()
    .map((file) => {
      const flows = readFlowLogs(join(dir, file), file, false);
      return {
        file,
        label: captureLabels.get(file) ?? '',
        flows,
        flowLabels: flows.map((flow) => flowLabels.get(`${file}\u0000${flowKeyOf(flow)}`) ?? ''),
        rows: rows.get(file) ?? [],
      };
    });
}
