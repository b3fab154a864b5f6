/**
 * Checks for `cumma classify FILE --sidecar` before any work: the sidecar goes beside FILE, so
 * FILE must be a regular file (not `-`, /dev/stdin, a FIFO or a device, whose sidecar would be
 * `/dev/stdin.cumma.tsv`), and the folder must take it, or minutes of classifying end in an error.
 */
import { Stats, accessSync, constants } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { STANDARD_INPUT } from '../capture/file-reader';
import { UsageError } from './usage-error';

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a pipe (FIFO)';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * `stats`: FILE's, undefined when it does not exist (reading it reports that, with its code).
 * A FILE that is no regular file is a usage mistake; a folder that cannot be written is not the
 * command line's fault: a plain error (exit 1), naming the sidecar.
 */
export function checkSidecarTarget(file: string, sidecarPath: string, stats: Stats | undefined): void {
  if (file === STANDARD_INPUT) throw new UsageError('--sidecar writes beside the capture file; standard input (-) has none');
  // /dev/stdin, /dev/fd/0, /proc/self/fd/0 stat as whatever standard input is, a regular file too.
  // (Files in /dev/shm, a tmpfs, are captures like any other.)
  if (/^\/(proc\/|dev\/(std(in|out|err)$|fd\/))/.test(resolve(file))) throw new UsageError(`--sidecar writes beside the capture file; ${file} is a system path, not a capture file`);
  if (stats === undefined) return;
  if (!stats.isFile()) throw new UsageError(`--sidecar writes beside the capture file; ${file} is ${kindOf(stats)}`);
  const folder = dirname(resolve(sidecarPath));
  try {
    // Write to make the temporary file, search (X) to rename it into place.
    accessSync(folder, constants.W_OK | constants.X_OK);
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new Error(`cannot write the sidecar ${sidecarPath}: folder ${dirname(sidecarPath)} is not writable (${code})`);
  }
}
