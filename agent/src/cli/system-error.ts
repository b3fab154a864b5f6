/** Failures writing the standard streams, in the words messages use. */
import { systemErrorReason } from '../common/system-error';

/** A closed pipe: the reader of our output has gone (`… | head`), which is no failure of ours. */
export function isClosedPipe(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
}

/** The message for a failed write on standard output, e.g. with a full disk. */
export function stdoutFailure(error: unknown): string {
  return `cannot write standard output: ${systemErrorReason(error)}`;
}
