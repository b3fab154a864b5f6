/**
 * One error class for everything that can stop a recording. Each carries a stable code (to be
 * listed in docs/errors.md) so callers and tests can tell "install dumpcap" from "grant
 * CAP_NET_RAW" without matching message text.
 */
export type RecordErrorCode =
  /** dumpcap is not installed or not at the given path. */
  | 'RECORD_DUMPCAP_MISSING'
  /** dumpcap runs but may not capture (capabilities, group membership). */
  | 'RECORD_CAPTURE_PERMISSION'
  /** dumpcap failed or exited early for another reason; its stderr is in the message. */
  | 'RECORD_DUMPCAP_FAILED'
  /** dumpcap did not start capturing, or did not hand over the last packets, in time. */
  | 'RECORD_CAPTURE_TIMEOUT'
  | 'RECORD_OPENSSL_MISSING'
  | 'RECORD_OPENSSL_FAILED'
  /** The traffic script cannot be replayed (unknown connection, oversized datagram, …). */
  | 'RECORD_BAD_SCRIPT'
  /** An option value is out of range (speed, output path, …). */
  | 'RECORD_BAD_OPTION'
  /** A socket of the replay failed (refused, reset, decryption failure, …). */
  | 'RECORD_REPLAY_FAILED'
  /** The output capture or truth file could not be written. */
  | 'RECORD_OUTPUT'
  /** SIGINT/SIGTERM/SIGHUP or the caller's AbortSignal stopped the recording. */
  | 'RECORD_INTERRUPTED';

export class RecordError extends Error {
  override readonly name = 'RecordError';

  constructor(
    readonly code: RecordErrorCode,
    readonly detail: string,
  ) {
    super(`${detail} [${code}]`);
  }
}
