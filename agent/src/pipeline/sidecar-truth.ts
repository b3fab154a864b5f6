/**
 * Truth for captures without packet comments: a `X.truth.jsonl` sidecar beside the capture
 * labels each dialog whose flow and time span it covers (the record overlapping the dialog
 * longest wins). The sidecar is checked line by line (truth-sidecar-reader.ts); one that labels
 * none of the capture's dialogs is reported, since a hand-written file that matches nothing
 * (endpoints swapped for UDP, times in seconds) would otherwise look like a capture with no truth.
 */
import { existsSync } from 'node:fs';
import { SidecarTruth, readTruthSidecar } from '../truth/truth-sidecar-reader';
import { truthSidecarPath } from '../truth/truth-sidecar';
import { CaptureDialog } from './capture-dialogs';

function sameFlow(dialog: CaptureDialog, record: SidecarTruth): boolean {
  const { client, server, l4 } = dialog.flow;
  if (l4 !== record.l4) return false;
  const forward = client.ip === record.client.ip && client.port === record.client.port && server.ip === record.server.ip && server.port === record.server.port;
  const reverse = client.ip === record.server.ip && client.port === record.server.port && server.ip === record.client.ip && server.port === record.client.port;
  return forward || reverse;
}

/**
 * Dialogs with truth filled in from the sidecar where the comments gave none. Throws
 * TruthSidecarError for a bad line; `onWarning` hears of a sidecar that labels no dialog.
 */
export function withSidecarTruth(capturePath: string, dialogs: readonly CaptureDialog[], onWarning?: (message: string) => void): CaptureDialog[] {
  const path = truthSidecarPath(capturePath);
  if (!existsSync(path) || dialogs.every((dialog) => dialog.truth !== undefined)) return [...dialogs];
  const records = readTruthSidecar(path);
  let labelled = 0;
  const result = dialogs.map((dialog) => {
    if (dialog.truth !== undefined) return dialog;
    let best: SidecarTruth | undefined;
    let bestOverlap = -1;
    for (const record of records) {
      if (!sameFlow(dialog, record)) continue;
      const overlap = Math.min(dialog.endUs, record.endUs) - Math.max(dialog.startUs, record.startUs);
      if (overlap >= 0 && overlap > bestOverlap) {
        best = record;
        bestOverlap = overlap;
      }
    }
    if (best === undefined) return dialog;
    labelled++;
    return { ...dialog, truth: best.usage };
  });
  if (labelled === 0 && records.length > 0 && onWarning !== undefined) {
    onWarning(
      `${path}: none of its ${records.length} records matches a dialog of ${capturePath} ` +
        '(a record labels the dialogs of its flow — l4, client and server ip and port, either way round — that overlap [startUs, endUs], µs since the Unix epoch)',
    );
  }
  return result;
}
