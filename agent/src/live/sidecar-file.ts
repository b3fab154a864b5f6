/**
 * The Wireshark sidecar `X.pcapng.cumma.tsv` (DESIGN.md): a header line with the column names,
 * then one dialog a line, endpoints in the flow's client/server order. The Lua post-dissector
 * matches a packet by its 5-tuple in either direction and its time inside [start_us, end_us].
 * Written to a temporary file and renamed, so a reader never sees half a file.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { DialogRecord } from '../pipeline/dialog-record';

export const SIDECAR_SUFFIX = '.cumma.tsv';

export const SIDECAR_COLUMNS = [
  'l4',
  'ip_a',
  'port_a',
  'ip_b',
  'port_b',
  'start_us',
  'end_us',
  'usage',
  'confidence',
  'session',
  'dialog',
  'status',
] as const;

export function sidecarPathOf(capturePath: string): string {
  return `${capturePath}${SIDECAR_SUFFIX}`;
}

export function sidecarLine(dialog: DialogRecord): string {
  return [
    dialog.l4,
    dialog.client.ip,
    dialog.client.port,
    dialog.server.ip,
    dialog.server.port,
    dialog.startUs,
    dialog.endUs,
    dialog.usage,
    dialog.confidence.toFixed(4),
    dialog.session,
    dialog.dialog,
    dialog.status,
  ].join('\t');
}

export function formatSidecar(dialogs: Iterable<DialogRecord>): string {
  const lines = [SIDECAR_COLUMNS.join('\t')];
  for (const dialog of dialogs) lines.push(sidecarLine(dialog));
  return `${lines.join('\n')}\n`;
}

/** Replaces `path` atomically with the sidecar of `dialogs`. */
export function writeSidecar(path: string, dialogs: Iterable<DialogRecord>): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, formatSidecar(dialogs));
    renameSync(temporary, path);
  } catch (error) {
    // A failed write or rename (the target is a folder, the disk is full) leaves no stray file.
    rmSync(temporary, { force: true });
    throw error;
  }
}
