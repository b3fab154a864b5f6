/**
 * Files are written as `PATH.PID.tmp` (or `PATH.PID.RANDOM.tmp`, where others may write in the
 * folder: see sidecar-file.ts) and renamed into place, so PATH never holds half a file.
 * A process killed while writing (Ctrl-C during a long `cumma simulate`, SIGKILL) cannot remove
 * its temporary, since no JavaScript runs on the way out of a synchronous loop; the next writer
 * of the same PATH removes those whose process is gone, so they do not pile up.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * A temporary name beside `path`, `PATH.PID.RANDOM.tmp`, for a file created exclusively ('wx')
 * where others may write in the folder: nobody can plant a symbolic link at a name they cannot
 * guess, and removeStaleTemporaries recognises it once this process is gone.
 */
export function unguessableTemporary(path: string): string {
  return `${path}.${process.pid}.${randomBytes(8).toString('hex')}.tmp`;
}

/** Whether process `pid` exists (signal 0 tests without signalling; EPERM: exists, not ours). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes `PATH.PID[.RANDOM].tmp` files beside `path` left by processes no longer running; returns their names. */
export function removeStaleTemporaries(path: string): string[] {
  const directory = dirname(path);
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const middle = /^(\d+)(\.[0-9a-f]{16})?$/.exec(name.slice(prefix.length, -'.tmp'.length));
    const pid = middle === null ? NaN : Number(middle[1]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || running(pid)) continue;
    try {
      rmSync(join(directory, name), { force: true });
      removed.push(name);
    } catch {
      // Not ours to insist on: a file we cannot remove stays, as before.
    }
  }
  return removed;
}
