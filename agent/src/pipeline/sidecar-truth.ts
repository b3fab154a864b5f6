/**
 * Truth for captures without packet comments: a `X.truth.jsonl` sidecar beside the capture
 * labels each dialog whose flow and time span it covers (the record overlapping the dialog
 * longest wins).
 */
import { existsSync, readFileSync } from 'node:fs';
import { isUsageClass } from '../labels';
import { TruthRecord, truthSidecarPath } from '../truth/truth-sidecar';
import { CaptureDialog } from './capture-dialogs';

function sameFlow(dialog: CaptureDialog, record: TruthRecord): boolean {
  const { client, server, l4 } = dialog.flow;
  if (l4 !== record.l4) return false;
  const forward = client.ip === record.client.ip && client.port === record.client.port && server.ip === record.server.ip && server.port === record.server.port;
  const reverse = client.ip === record.server.ip && client.port === record.server.port && server.ip === record.client.ip && server.port === record.client.port;
  return forward || reverse;
}

/** Dialogs with truth filled in from the sidecar where the comments gave none. */
export function withSidecarTruth(capturePath: string, dialogs: readonly CaptureDialog[]): CaptureDialog[] {
  const path = truthSidecarPath(capturePath);
  if (!existsSync(path) || dialogs.every((dialog) => dialog.truth !== undefined)) return [...dialogs];
  const records = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as TruthRecord)
    .filter((record) => isUsageClass(record.usage));
  return dialogs.map((dialog) => {
    if (dialog.truth !== undefined) return dialog;
    let best: TruthRecord | undefined;
    let bestOverlap = -1;
    for (const record of records) {
      if (!sameFlow(dialog, record)) continue;
      const overlap = Math.min(dialog.endUs, record.endUs) - Math.max(dialog.startUs, record.startUs);
      if (overlap >= 0 && overlap > bestOverlap) {
        best = record;
        bestOverlap = overlap;
      }
    }
    return best ? { ...dialog, truth: best.usage } : dialog;
  });
}
