/**
 * `mkdir -p` without Node's `mkdirSync(path, { recursive: true })`. On a pseudo file system that
 * refuses new entries with ENOENT although the parent exists (/proc: `mkdir /proc/x` says "no such
 * file or directory"), Node's recursive mkdir takes ENOENT for a missing parent, makes the parent
 * (EEXIST: fine), tries the child again, and loops for ever at full CPU (Node 20). Here each
 * missing level is made once, from the deepest one there down: every refusal is thrown, none
 * retried, so a folder that cannot be made fails at once.
 */
import { Stats, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { systemErrorReason } from './system-error';

function statOrUndefined(path: string): Stats | undefined {
  return statSync(path, { throwIfNoEntry: false });
}

/**
 * Makes the folder `path` and any missing parents (`mode` for each level made). Returns
 * quietly when it is a folder already; throws the system error of the first level that cannot
 * be made (EEXIST when `path` is a file, ENOTDIR when a parent is, EACCES, EROFS, ENOENT on
 * /proc), whose `path` names that level.
 */
export function makeFolder(path: string, mode?: number): void {
  const missing: string[] = [];
  // Up to the first level there (at worst the root: the walk ends). A file there stops the walk
  // too: making the level below it reports what is wrong (ENOTDIR, or EEXIST for `path` itself).
  for (let at = resolve(path); ; ) {
    const stats = statOrUndefined(at);
    if (stats?.isDirectory() === true) break;
    missing.push(at);
    const parent = dirname(at);
    if (stats !== undefined || parent === at) break;
    at = parent;
  }
  for (const level of missing.reverse()) {
    try {
      mkdirSync(level, mode === undefined ? {} : { mode });
    } catch (error) {
      // Made meanwhile by another process (two agents starting at once): as good.
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && statOrUndefined(level)?.isDirectory() === true) continue;
      throw error;
    }
  }
}

export interface FolderProblem {
  /** `path` or one of its parents is a file: the path given is wrong, not the system. */
  readonly notAFolder: boolean;
  /** In words: "it is a file, not a folder", "/a/b is a file, not a folder", "cannot make folder /proc/x: …". */
  readonly text: string;
}

/** What is wrong with `path` as a folder, from the error makeFolder threw for it. */
export function folderProblem(path: string, error: unknown): FolderProblem {
  const failure = error as NodeJS.ErrnoException | null;
  const code = failure?.code;
  if (code === 'EEXIST' || code === 'ENOTDIR') {
    const file = fileOnPath(path);
    if (file === resolve(path)) return { notAFolder: true, text: 'it is a file, not a folder' };
    if (file !== undefined) return { notAFolder: true, text: `${file} is a file, not a folder` };
  }
  const level = failure?.path !== undefined ? resolve(failure.path) : resolve(path);
  // /proc answers a new entry with ENOENT, its parent there: "no such file or directory" would mislead.
  const refused = code === 'ENOENT' && failure?.syscall === 'mkdir' && isFolder(dirname(level));
  const reason = refused ? 'its file system takes no new folders there' : systemErrorReason(error);
  return { notAFolder: false, text: `cannot make folder ${level}: ${reason}${code === undefined ? '' : ` (${code})`}` };
}

/** Whether `path` is a folder now (false when it cannot be told: this only words a message). */
function isFolder(path: string): boolean {
  try {
    return statOrUndefined(path)?.isDirectory() === true;
  } catch {
    return false;
  }
}

/** The first level of `path`, from the root down, that exists and is not a folder. */
function fileOnPath(path: string): string | undefined {
  const levels: string[] = [];
  for (let at = resolve(path); ; at = dirname(at)) {
    levels.push(at);
    if (dirname(at) === at) break;
  }
  for (const level of levels.reverse()) {
    let stats: Stats | undefined;
    try {
      stats = statOrUndefined(level);
    } catch {
      return undefined;
    }
    if (stats === undefined) return undefined;
    if (!stats.isDirectory()) return level;
  }
  return undefined;
}
