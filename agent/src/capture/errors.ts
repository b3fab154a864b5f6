/**
 * One error class for everything that can be wrong with capture bytes. Every error carries a
 * stable code (listed in docs/errors.md) and the byte offset where the reader stopped, so a
 * user can open the file in a hex editor at the right place.
 */
export type CaptureErrorCode =
  | 'CAPTURE_UNKNOWN_FORMAT'
  | 'CAPTURE_TRUNCATED'
  | 'CAPTURE_BLOCK_TOO_SHORT'
  | 'CAPTURE_BLOCK_UNALIGNED'
  | 'CAPTURE_BLOCK_TOO_LONG'
  | 'CAPTURE_TRAILER_MISMATCH'
  | 'CAPTURE_CAPLEN_EXCEEDS_BLOCK'
  | 'CAPTURE_BAD_BYTE_ORDER'
  | 'CAPTURE_UNSUPPORTED_VERSION'
  | 'CAPTURE_BAD_OPTION'
  | 'CAPTURE_UNKNOWN_INTERFACE'
  | 'CAPTURE_IO';

export class CaptureError extends Error {
  override readonly name = 'CaptureError';

  constructor(
    readonly code: CaptureErrorCode,
    /** Absolute byte offset (from the start of the file) of the block or record at fault. */
    readonly offset: number,
    readonly detail: string,
    /** File the bytes came from, when the reader was told. */
    readonly file?: string,
  ) {
    super(`${file ? `${file}: ` : ''}byte offset ${offset}: ${detail} [${code}]`);
  }

  /** The same error, attributed to a file (readers see bytes, their callers know the path). */
  inFile(file: string): CaptureError {
    return this.file === file ? this : new CaptureError(this.code, this.offset, this.detail, file);
  }
}
