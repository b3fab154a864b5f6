/**
 * The Wireshark sidecar `X.pcapng.cumma.tsv` (DESIGN.md): a header line with the column names,
 * then one dialog a line, endpoints in the flow's client/server order. The Lua post-dissector
 * matches a packet by its 5-tuple in either direction and its time inside [start_us, end_us].
 * Written to a temporary file and renamed, so a reader never sees half a file.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { removeStaleTemporaries, unguessableTemporary } from '../common/stale-temporaries';
import { systemErrorReason } from '../common/system-error';
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

export interface WriteSidecarOptions {
  /**
   * Mode bits of the capture the sidecar describes. The sidecar holds the capture's real
   * addresses, so it is never readable by more users than the capture: group and other get at
   * most the capture's read/write bits (and the umask still applies). Without it, 0666 & ~umask.
   */
  readonly captureMode?: number;
  /**
   * First remove temporaries of this sidecar left by writers that were killed mid-write (a
   * listing of the folder: once per capture, not on every rewrite).
   */
  readonly sweepStale?: boolean;
}

/** Replaces `path` atomically with the sidecar of `dialogs`. */
export function writeSidecar(path: string, dialogs: Iterable<DialogRecord>, options: WriteSidecarOptions = {}): void {
  // The capture folder may be writable by others (a dumpcap group): a predictable temporary name
  // would let them plant a symbolic link there and have the agent overwrite its target. The name
  // is unguessable and the file is created exclusively ('wx': O_CREAT | O_EXCL, which also
  // refuses to follow a symbolic link), so the agent only ever writes a file it has just created.
  // The process id in it lets a later writer remove it if this process is killed mid-write
  // (removeStaleTemporaries).
  if (options.sweepStale) removeStaleTemporaries(path);
  const temporary = unguessableTemporary(path);
  const mode = options.captureMode === undefined ? 0o666 : 0o600 | (options.captureMode & 0o066);
  let created = false;
  try {
    writeFileSync(temporary, formatSidecar(dialogs), { flag: 'wx', mode });
    created = true;
    renameSync(temporary, path);
  } catch (error) {
    // A failed write or rename (the target is a folder, the disk is full) leaves no stray file;
    // a name that already existed is someone else's and is left alone.
    if (created || (error as NodeJS.ErrnoException).code !== 'EEXIST') rmSync(temporary, { force: true });
    throw namingSidecar(path, error);
  }
}

/**
 * The error of a failed write, naming the sidecar: Node's names the random temporary
 * ("ENOSPC: no space left on device, write '….cumma.tsv.1f…tmp'"), which no longer exists.
 */
function namingSidecar(path: string, error: unknown): Error {
  return Object.assign(new Error(`${path}: ${systemErrorReason(error)}`), { code: (error as NodeJS.ErrnoException).code });
}
