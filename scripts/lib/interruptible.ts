/**
 * What a benchmark must not leave behind when it is interrupted: its scratch folders (the latency
 * benchmark's holds ≈ 130 MB of captures) and the processes it started (a `cumma watch` agent).
 *
 * `finally` blocks are not enough. Node.js ends a process on SIGINT, SIGTERM or SIGHUP without
 * running them, and a closed stdout (`npm run bench | head`) fails the next write with EPIPE as an
 * uncaught error, which ends the process mid-await. So these are cleaned up from the process's
 * 'exit' event, and the signals and EPIPE are turned into an exit that emits it.
 */
import { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const folders = new Set<string>();
const children = new Set<ChildProcess>();
let installed = false;

/** Exit statuses for the signals, as a shell reports a process ended by one: 128 + its number. */
const SIGNAL_EXITS = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;

function cleanUp(): void {
  // Synchronous only: this runs in the 'exit' event, where nothing asynchronous completes.
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
  children.clear();
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  folders.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanUp);
  for (const [signal, status] of Object.entries(SIGNAL_EXITS)) process.once(signal, () => process.exit(status));
  // Whoever read the output has gone: nothing more is wanted (as `cumma` itself treats it).
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

/** A fresh folder under the system's temporary folder, removed when the process ends, however it ends. */
export function scratchFolder(prefix: string): string {
  install();
  const folder = mkdtempSync(join(tmpdir(), prefix));
  folders.add(folder);
  return folder;
}

/** Removes a scratch folder now (it would be at exit anyway). */
export function removeScratchFolder(folder: string): void {
  rmSync(folder, { recursive: true, force: true });
  folders.delete(folder);
}

/** Terminates `child` when this process ends, unless it has ended first. Returns it. */
export function endsWithThisProcess<T extends ChildProcess>(child: T): T {
  install();
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
