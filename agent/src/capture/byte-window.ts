/**
 * A growable window over a byte stream: bytes are appended at the end and consumed from the
 * start, and every index maps back to an absolute stream offset. One class owns buffer growth
 * and compaction so that the parsers only ever see complete, contiguous blocks.
 */
import { CaptureError } from './errors';

const INITIAL_CAPACITY = 1 << 20;
/** What release() keeps: room for a few packets, nothing that adds up over hundreds of captures. */
const RELEASED_CAPACITY = 4096;

export class ByteWindow {
  bytes: Uint8Array;
  view: DataView;
  /** Index of the first unread byte. */
  start = 0;
  /** Index one past the last byte held. */
  end = 0;
  /** Absolute stream offset of bytes[0]. */
  private base: number;
  /** The capacity the window returns to once a large block has gone (see reserve()). */
  private readonly initialCapacity: number;

  constructor(startOffset = 0, initialCapacity = INITIAL_CAPACITY) {
    this.base = startOffset;
    this.initialCapacity = initialCapacity;
    this.bytes = new Uint8Array(initialCapacity);
    this.view = new DataView(this.bytes.buffer);
  }

  get available(): number {
    return this.end - this.start;
  }

  /** Absolute offset of the first unread byte. */
  get offset(): number {
    return this.base + this.start;
  }

  absolute(index: number): number {
    return this.base + index;
  }

  /**
   * Consumed bytes stay where they are until the next reserve(): a caller may have a read in
   * flight into the space after `end`, which must not move under it.
   */
  consume(length: number): void {
    this.start += length;
  }

  append(chunk: Uint8Array): void {
    const at = this.reserve(chunk.length);
    this.bytes.set(chunk, at);
    this.end += chunk.length;
  }

  /**
   * Makes room for `length` more bytes and returns the index to write them at; the caller
   * writes directly (e.g. fs.readSync into `bytes`) and then calls commit().
   */
  reserve(length: number): number {
    if (this.start === this.end && this.start > 0) {
      // Nothing unread: restart at the front, no copy needed.
      this.base += this.start;
      this.start = this.end = 0;
    }
    // One large block must not pin its buffer for the rest of a long-running read (the live agent
    // tails files for days): once what is held and wanted fits in a quarter of the buffer, the
    // window moves to a smaller one. A quarter, so a window that is merely busy does not
    // shrink and regrow on every call.
    const needed = this.end - this.start + length;
    if (this.bytes.length > this.initialCapacity && needed <= this.bytes.length / 4) {
      let capacity = this.initialCapacity;
      while (capacity < needed) capacity *= 2;
      const smaller = new Uint8Array(capacity);
      smaller.set(this.bytes.subarray(this.start, this.end));
      this.base += this.start;
      this.end -= this.start;
      this.start = 0;
      this.bytes = smaller;
      this.view = new DataView(smaller.buffer);
      return this.end;
    }
    if (this.end + length <= this.bytes.length) return this.end;
    if (this.start > 0) {
      this.bytes.copyWithin(0, this.start, this.end);
      this.base += this.start;
      this.end -= this.start;
      this.start = 0;
    }
    if (this.end + length > this.bytes.length) {
      let capacity = this.bytes.length;
      while (capacity < this.end + length) capacity *= 2;
      const grown = new Uint8Array(capacity);
      grown.set(this.bytes.subarray(0, this.end));
      this.bytes = grown;
      this.view = new DataView(grown.buffer);
    }
    return this.end;
  }

  commit(length: number): void {
    if (this.end + length > this.bytes.length) {
      throw new CaptureError('CAPTURE_IO', this.absolute(this.end), `commit of ${length} bytes past reserved space`);
    }
    this.end += length;
  }

  /**
   * Gives the buffer back while no more bytes are expected soon (a live capture that stopped
   * growing): the unread bytes, if any (an unfinished block), move to a buffer just large enough
   * for them; the next reserve() grows it again. Returns the bytes given back.
   */
  release(): number {
    const held = this.end - this.start;
    let capacity = RELEASED_CAPACITY;
    while (capacity < held) capacity *= 2;
    if (capacity >= this.bytes.length) return 0;
    const freed = this.bytes.length - capacity;
    const small = new Uint8Array(capacity);
    small.set(this.bytes.subarray(this.start, this.end));
    this.base += this.start;
    this.end = held;
    this.start = 0;
    this.bytes = small;
    this.view = new DataView(small.buffer);
    return freed;
  }

  /** Forgets buffered bytes and continues at a new absolute offset (used when resuming). */
  resetTo(offset: number): void {
    this.base = offset;
    this.start = this.end = 0;
  }
}
