/**
 * What a benchmark must not leave behind when it is interrupted: its scratch folders (the latency
 * benchmark's holds ≈ 130 MB of captures) and the processes it started (a `cumma watch` agent).
 *
 * `finally` blocks are not enough. Node.js ends a process on SIGINT, SIGTERM or SIGHUP without
 * running them, and a closed stdout (`npm run bench | head`) fails the next write with EPIPE as an
 * uncaught error, which ends the process mid-await. So these are cleaned up from the process's
 * 'exit' event, and the signals and EPIPE (exitWhenStdoutCloses) are turned into an exit that
 * emits it.
 *
 * A signal handler runs only when the event loop does. A script blocked in spawnSync (every
 * timed run) learns of Ctrl-C from its child instead, which the terminal signalled too: the
 * child ends by the signal, or, when it is one of these scripts, with status 128 + its number.
 * checkInterrupted() turns either into an Interrupted error, which the script ends with.
 */
import { ChildProcess, SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const folders = new Set<string>();
const children = new Set<ChildProcess>();
let installed = false;

/** Exit statuses for the signals, as a shell reports a process ended by one: 128 + its number. */
const SIGNAL_EXITS: Readonly<Record<string, number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

/** The run was stopped by a signal (Ctrl-C): end with `exitStatus`, as the shell would report it. */
export class Interrupted extends Error {
  constructor(
    readonly signal: string,
    readonly exitStatus: number,
  ) {
    super(`interrupted by ${signal}`);
    this.name = 'Interrupted';
  }
}

/**
 * Throws Interrupted when a child run by spawnSync ended by SIGINT, SIGTERM or SIGHUP, or exited
 * with the status a script of ours ends with after one.
 */
export function checkInterrupted(result: Pick<SpawnSyncReturns<unknown>, 'signal' | 'status'>): void {
  if (result.signal !== null && SIGNAL_EXITS[result.signal] !== undefined) throw new Interrupted(result.signal, SIGNAL_EXITS[result.signal]!);
  for (const [signal, status] of Object.entries(SIGNAL_EXITS)) {
    if (result.status === status) throw new Interrupted(signal, status);
  }
}

/**
 * Runs a script's main function: an Interrupted error ends the process with its status (the
 * scratch folders and children go in the 'exit' event); anything else is thrown on.
 */
export function exitWhenInterrupted<T>(main: () => T): T {
  try {
    return main();
  } catch (error) {
    if (error instanceof Interrupted) process.exit(error.exitStatus);
    throw error;
  }
}

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
}

/**
 * Piped into `head`, stdout closes early: the script stops quietly, through process.exit (so the
 * 'exit' event cleans up), rather than die on EPIPE. Whoever read the output has gone: nothing
 * more is wanted, as `cumma` itself treats it.
 */
export function exitWhenStdoutCloses(): void {
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
