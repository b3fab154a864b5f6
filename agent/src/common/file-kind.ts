/** What a path that is not a regular file is, in the words messages use; and reading only regular files. */
import { Stats, closeSync, constants, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { systemErrorWithCode } from './system-error';

/** What is at `path` (links followed), or undefined when nothing is or it cannot be looked at. */
export function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** "a folder", "a FIFO", "a device", …: said when a regular file was expected. */
export function fileKind(stats: Stats): string {
  if (stats.isFile()) return 'a regular file';
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  return 'another kind of file';
}

/** A path that was to be read as a file and is something else; the message is the reason ("it is a FIFO, not a regular file"). */
export class NotRegularFileError extends Error {
  override readonly name = 'NotRegularFileError';
  constructor(
    readonly path: string,
    readonly kind: string,
  ) {
    super(`it is ${kind}, not a regular file`);
  }
}

/**
 * Opens `path` for reading only if it is a regular file; returns the descriptor. Opened without
 * blocking: open(2) of a FIFO with no writer waits for one for good (a command hung on
 * `--model fifo`), and a device such as /dev/zero would be read for ever. Judged on the open file
 * (fstat), so nothing can be swapped in between a check and the open. Throws the open's system
 * error, or NotRegularFileError (the descriptor closed). O_NONBLOCK changes nothing for reading a
 * regular file.
 */
export function openRegularFile(path: string): number {
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new NotRegularFileError(path, fileKind(stats));
    return fd;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** The whole text of the regular file at `path` (openRegularFile's refusals and errors thrown as they are). */
export function readRegularFile(path: string): string {
  const fd = openRegularFile(path);
  try {
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Up to `length` first bytes of the regular file at `path` (fewer when it is shorter); the open's
 * or read's error thrown as it is, NotRegularFileError for anything else. Callers stat `path`
 * first and come here for a regular file, but what is opened may have been swapped since: judged
 * on the descriptor (openRegularFile), a FIFO put there in between cannot hang them in open(2).
 */
export function readFileHead(path: string, length: number): Buffer {
  const fd = openRegularFile(path);
  try {
    const buffer = Buffer.alloc(length);
    return buffer.subarray(0, readSync(fd, buffer, 0, length, 0));
  } finally {
    closeSync(fd);
  }
}

/**
 * Why a file could not be read, for a message that names the file itself: "it is a FIFO, not a
 * regular file", "permission denied (EACCES)", "no such file or directory (ENOENT)".
 */
export function readFailureText(error: unknown): string {
  return error instanceof NotRegularFileError ? error.message : systemErrorWithCode(error);
}
