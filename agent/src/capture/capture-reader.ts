/**
 * Incremental capture reader: feed it bytes in chunks split anywhere, pull packets with next().
 * The format (pcapng or classic pcap) is detected from the magic bytes, never from a name.
 * An incomplete final block is not an error while more bytes may come; finish() says there
 * will be none. The reader can checkpoint after any packet and resume from that checkpoint
 * (a tailer continuing a growing file, or an agent restarting after a crash).
 */
import { ByteWindow } from './byte-window';
import { CaptureInterface, DEFAULT_MAX_BLOCK_LENGTH, Step } from './capture-interface';
import { CaptureError } from './errors';
import { Packet } from './packet';
import { PCAP_FILE_HEADER_LENGTH, PCAP_MAGICS, PcapParser, PcapState, pcapByteOrder, readPcapHeader } from './pcap-parser';
import { PCAPNG_MAGIC, PcapngParser, PcapngState } from './pcapng-parser';

export type CaptureFormat = 'pcapng' | 'pcap';

export interface CaptureReaderOptions {
  /** Blocks or records longer than this are reported as corrupt (default 256 MiB). */
  readonly maxBlockLength?: number;
  /** Initial buffer size; it grows when a block needs more, and shrinks back after. */
  readonly bufferBytes?: number;
}

/** Everything needed to continue reading at `offset` without re-reading what came before. */
export type ReaderCheckpoint =
  | { readonly format: 'pcapng'; readonly offset: number; readonly pcapng: PcapngState }
  | { readonly format: 'pcap'; readonly offset: number; readonly pcap: PcapState };

export class CaptureReader {
  /** The one Packet object this reader overwrites for every packet. */
  readonly packet = new Packet();
  private readonly window: ByteWindow;
  private readonly maxBlockLength: number;
  private parser: PcapngParser | PcapParser | undefined;
  private failure: CaptureError | undefined;

  constructor(options: CaptureReaderOptions = {}, startOffset = 0) {
    this.maxBlockLength = options.maxBlockLength ?? DEFAULT_MAX_BLOCK_LENGTH;
    this.window = new ByteWindow(startOffset, options.bufferBytes);
  }

  /** A reader that continues from a checkpoint; feed it the bytes from checkpoint.offset on. */
  static resume(checkpoint: ReaderCheckpoint, options: CaptureReaderOptions = {}): CaptureReader {
    const reader = new CaptureReader(options, checkpoint.offset);
    reader.parser =
      checkpoint.format === 'pcapng'
        ? new PcapngParser(reader.maxBlockLength, checkpoint.pcapng)
        : new PcapParser(checkpoint.pcap, reader.maxBlockLength);
    return reader;
  }

  get format(): CaptureFormat | undefined {
    if (this.parser === undefined) return undefined;
    return this.parser instanceof PcapngParser ? 'pcapng' : 'pcap';
  }

  /** Interfaces of the current section. */
  get interfaces(): readonly CaptureInterface[] {
    return this.parser?.currentInterfaces ?? [];
  }

  /** Absolute offset of the first byte not yet consumed: the start of the next block. */
  get nextOffset(): number {
    return this.window.offset;
  }

  /** Bytes held that do not yet form a complete block. */
  get pendingBytes(): number {
    return this.window.available;
  }

  /** Valid between packets; undefined before the file header has been read. */
  checkpoint(): ReaderCheckpoint | undefined {
    const parser = this.parser;
    if (parser === undefined) return undefined;
    const offset = this.window.offset;
    return parser instanceof PcapngParser
      ? { format: 'pcapng', offset, pcapng: parser.state() }
      : { format: 'pcap', offset, pcap: parser.state };
  }

  append(chunk: Uint8Array): void {
    this.window.append(chunk);
  }

  /**
   * Direct writing for file readers: returns the buffer and index to write up to `length`
   * bytes at; call commit() with the count written. Avoids one copy per chunk.
   */
  reserve(length: number): { readonly buffer: Uint8Array; readonly index: number } {
    const index = this.window.reserve(length);
    return { buffer: this.window.bytes, index };
  }

  commit(length: number): void {
    this.window.commit(length);
  }

  /**
   * Gives back the read buffer (1 MiB) while no bytes are coming, keeping any unfinished block;
   * reading resumes as before. Invalidates frameBytes(). Returns the bytes given back.
   */
  releaseBuffer(): number {
    return this.window.release();
  }

  /** Capacity of the read buffer now, bytes (for tests and diagnostics). */
  get bufferCapacity(): number {
    return this.window.bytes.length;
  }

  /** The next packet, or undefined when the buffered bytes hold no complete packet block. */
  next(): Packet | undefined {
    if (this.failure) throw this.failure;
    try {
      if (this.parser === undefined && !this.detectFormat()) return undefined;
      const parser = this.parser!;
      for (;;) {
        const step = parser.step(this.window, this.packet);
        if (step === Step.Packet) return this.packet;
        if (step === Step.NeedMore) return undefined;
      }
    } catch (error) {
      if (error instanceof CaptureError) this.failure = error;
      throw error;
    }
  }

  /**
   * The captured bytes of the packet the last next() returned: a view of the reader's buffer,
   * not a copy, valid until the next call to next(), append(), reserve() or finish(). For
   * tools that rewrite captures (the recorder adding truth comments); analysis never needs it.
   */
  frameBytes(): Uint8Array {
    const parser = this.parser;
    if (parser === undefined) return new Uint8Array(0);
    return this.window.bytes.subarray(parser.lastFrameStart, parser.lastFrameStart + this.packet.capturedLength);
  }

  /** Declares the end of input: leftover bytes mean the capture was cut inside a block. */
  finish(): void {
    if (this.failure) throw this.failure;
    const cut = this.parser === undefined && this.window.available === 0 ? new CaptureError('CAPTURE_TRUNCATED', this.window.offset, 'no data: the file is empty') : this.incompleteTail();
    if (cut !== undefined) {
      this.failure = cut;
      throw cut;
    }
  }

  /** Whether the bytes so far end inside a block (or the file header): more are due. */
  get endsMidBlock(): boolean {
    return this.window.available > 0;
  }

  /**
   * What finish() would report if the input ended here (CAPTURE_TRUNCATED at the incomplete
   * block), or undefined when the bytes so far end on a block boundary. Changes nothing: a
   * tailer asks it about a file that has stopped growing and goes on reading if it grows.
   * Nothing at all (an empty file) is not an incomplete block here: finish() reports it.
   */
  incompleteTail(): CaptureError | undefined {
    const window = this.window;
    if (window.available === 0) return undefined;
    if (this.parser === undefined) return new CaptureError('CAPTURE_TRUNCATED', window.offset, `input ends after ${window.available} bytes, inside the file header`);
    const expected = this.expectedBlockLength();
    return new CaptureError(
      'CAPTURE_TRUNCATED',
      window.offset,
      this.parser instanceof PcapParser
        ? `input ends inside a packet record: ${window.available} of ${expected ?? `at least ${this.parser.state.recordHeaderLength}`} bytes present`
        : `input ends inside a block: ${window.available} of ${expected ?? 'at least 12'} bytes present`,
    );
  }

  private expectedBlockLength(): number | undefined {
    const window = this.window;
    const parser = this.parser;
    if (parser instanceof PcapngParser) {
      if (window.available < 8) return undefined;
      return window.view.getUint32(window.start + 4, parser.state().littleEndian);
    }
    if (parser instanceof PcapParser) {
      if (window.available < 12) return undefined;
      return parser.state.recordHeaderLength + window.view.getUint32(window.start + 8, parser.state.littleEndian);
    }
    return undefined;
  }

  private detectFormat(): boolean {
    const window = this.window;
    if (window.available < 4) return false;
    const view = window.view;
    if (view.getUint32(window.start, false) === PCAPNG_MAGIC) {
      this.parser = new PcapngParser(this.maxBlockLength);
      return true;
    }
    if (pcapByteOrder(view, window.start) === undefined) {
      throw new CaptureError('CAPTURE_UNKNOWN_FORMAT', window.offset, `not a pcap or pcapng capture (${describeStart(window.bytes.subarray(window.start, window.start + Math.min(6, window.available)))})`);
    }
    if (window.available < PCAP_FILE_HEADER_LENGTH) return false;
    this.parser = new PcapParser(readPcapHeader(window), this.maxBlockLength);
    return true;
  }
}

/**
 * Whether `bytes` agree with the start of a capture's magic number (pcapng's, or a pcap one in
 * either byte order) as far as they go (at most its 4 bytes). A file of fewer than 4 such bytes
 * is a capture cut inside its file header, which finish() reports as CAPTURE_TRUNCATED; a file
 * whose first bytes agree with no magic is something else.
 */
export function mayStartCapture(bytes: Uint8Array): boolean {
  const length = Math.min(4, bytes.length);
  const magics = [PCAPNG_MAGIC, ...PCAP_MAGICS].flatMap((magic) => {
    const big = [magic >>> 24, (magic >>> 16) & 0xff, (magic >>> 8) & 0xff, magic & 0xff];
    return [big, [...big].reverse()];
  });
  return magics.some((magic) => magic.slice(0, length).every((byte, i) => bytes[i] === byte));
}

/** Known non-capture starts, so that the error says what the file is instead. */
const KNOWN_STARTS: readonly { bytes: readonly number[]; what: string }[] = [
  { bytes: [0x1f, 0x8b], what: 'gzip-compressed: decompress it first (gunzip)' },
  { bytes: [0x28, 0xb5, 0x2f, 0xfd], what: 'zstd-compressed: decompress it first (zstd -d)' },
  { bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], what: 'xz-compressed: decompress it first (unxz)' },
  { bytes: [0x04, 0x22, 0x4d, 0x18], what: 'lz4-compressed: decompress it first (lz4 -d)' },
  { bytes: [0x50, 0x4b, 0x03, 0x04], what: 'a zip archive: extract the capture first' },
];

/** "starts with 0x…", plus what the bytes are when that is recognisable (text, an archive). */
function describeStart(head: Uint8Array): string {
  const hex = Array.from(head.subarray(0, 4), (byte) => byte.toString(16).padStart(2, '0')).join('');
  const known = KNOWN_STARTS.find((entry) => entry.bytes.length <= head.length && entry.bytes.every((byte, i) => head[i] === byte));
  if (known !== undefined) return `starts with 0x${hex}: ${known.what}`;
  // Tabs and line ends count as text: a TSV (Cumma's own .cumma.tsv sidecar) or a short line.
  const textual = Array.from(head.subarray(0, 4)).every((byte) => (byte >= 0x20 && byte < 0x7f) || byte === 0x09 || byte === 0x0a || byte === 0x0d);
  return textual ? `starts with 0x${hex}, ${JSON.stringify(String.fromCharCode(...head.subarray(0, 4)))}: text, not a capture` : `starts with 0x${hex}`;
}
