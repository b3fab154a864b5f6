/**
 * A small, exact pcapng writer (draft-ietf-opsawg-pcapng): one little-endian section header
 * block, interface description blocks and enhanced packet blocks.
 *
 * Blocks are written straight into a large chunk and the chunk is handed to the sink when full,
 * so writing a packet allocates nothing: a 1 M-packet capture costs one copy of each frame plus a
 * few dozen integer stores per packet.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * Receives finished chunks. Each chunk belongs to the sink (the writer never touches it again),
 * unless the writer was created with `reuseChunk`.
 */
export type ByteSink = (bytes: Uint8Array) => void;

export interface PcapngWriterOptions {
  /** Bytes buffered before the sink is called. Larger chunks mean fewer write calls. */
  chunkBytes?: number;
  /**
   * Write the next chunk into the same memory once the sink returns. Only for sinks that are
   * done with the bytes when they return (createFileSink is); saves allocating a chunk per flush.
   */
  reuseChunk?: boolean;
  /** shb_userappl: the application that wrote the file (Wireshark shows it in capture info). */
  userApplication?: string;
}

export interface InterfaceOptions {
  /** LINKTYPE_* value (1 = Ethernet). */
  linkType: number;
  /** Largest captured length a packet of this interface may have; 0 means no limit. */
  snapLen?: number;
  /** if_name. */
  name?: string;
  /**
   * if_tsresol as a power of ten: 6 (µs, the pcapng default, then no option is written) to 9
   * (ns, what dumpcap writes). Timestamps are still passed in µs; the writer scales them.
   */
  timestampDecimals?: number;
}

const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 0x00000001;
const BLOCK_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_TSRESOL = 9;

const DEFAULT_CHUNK_BYTES = 1 << 20;
const DEFAULT_SNAPLEN = 262144;
/** Option values carry a 16-bit length. */
const MAX_OPTION_BYTES = 0xffff;
/** EPB fixed part: type, length, interface, ts high, ts low, captured, original; + trailer. */
const EPB_FIXED_BYTES = 32;
const TWO_POW_32 = 4294967296;

interface InterfaceState {
  snapLen: number;
  /** 10^(decimals − 6): multiply µs by this to get if_tsresol units. */
  scale: number;
}

const utf8 = new TextEncoder();

function padded(length: number): number {
  return (length + 3) & ~3;
}

export class PcapngWriter {
  private readonly sink: ByteSink;
  private readonly chunkBytes: number;
  private readonly reuseChunk: boolean;
  private chunk: Uint8Array;
  private view: DataView;
  private pos = 0;
  private flushedBytes = 0;
  private readonly interfaces: InterfaceState[] = [];

  constructor(sink: ByteSink, options: PcapngWriterOptions = {}) {
    const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (!Number.isInteger(chunkBytes) || chunkBytes < 4096) {
      throw new RangeError(`chunkBytes must be an integer >= 4096, got ${chunkBytes}`);
    }
    this.sink = sink;
    this.chunkBytes = chunkBytes;
    this.reuseChunk = options.reuseChunk ?? false;
    this.chunk = new Uint8Array(chunkBytes);
    this.view = new DataView(this.chunk.buffer);
    this.writeSectionHeader(options.userApplication ?? 'Cumma');
  }

  /** Bytes produced so far (handed to the sink or still buffered): the next block's file offset. */
  get bytesWritten(): number {
    return this.flushedBytes + this.pos;
  }

  /** Adds an interface description block; returns the interface id packets refer to. */
  addInterface(options: InterfaceOptions): number {
    const { linkType } = options;
    const snapLen = options.snapLen ?? DEFAULT_SNAPLEN;
    const decimals = options.timestampDecimals ?? 6;
    if (!Number.isInteger(linkType) || linkType < 0 || linkType > 0xffff) {
      throw new RangeError(`linkType must be an integer in 0..65535, got ${linkType}`);
    }
    if (!Number.isInteger(snapLen) || snapLen < 0 || snapLen > 0xffffffff) {
      throw new RangeError(`snapLen must be an integer in 0..4294967295, got ${snapLen}`);
    }
    if (!Number.isInteger(decimals) || decimals < 6 || decimals > 9) {
      throw new RangeError(`timestampDecimals must be 6, 7, 8 or 9, got ${decimals}`);
    }
    const name = options.name === undefined ? undefined : this.encodeOption(options.name, 'if_name');
    let optionBytes = 0;
    if (name !== undefined) optionBytes += 4 + padded(name.length);
    if (decimals !== 6) optionBytes += 8;
    if (optionBytes > 0) optionBytes += 4;
    const total = 20 + optionBytes;

    this.ensure(total);
    const v = this.view;
    const at = this.pos;
    v.setUint32(at, BLOCK_IDB, true);
    v.setUint32(at + 4, total, true);
    v.setUint16(at + 8, linkType, true);
    v.setUint16(at + 10, 0, true); // reserved
    v.setUint32(at + 12, snapLen, true);
    let o = at + 16;
    if (name !== undefined) o = this.putOption(o, IF_NAME, name);
    if (decimals !== 6) {
      v.setUint16(o, IF_TSRESOL, true);
      v.setUint16(o + 2, 1, true);
      v.setUint32(o + 4, decimals, true); // value byte + 3 zero padding bytes
      o += 8;
    }
    if (optionBytes > 0) {
      v.setUint32(o, OPT_ENDOFOPT, true);
      o += 4;
    }
    v.setUint32(o, total, true);
    this.pos = at + total;

    this.interfaces.push({ snapLen, scale: 10 ** (decimals - 6) });
    return this.interfaces.length - 1;
  }

  /**
   * Adds an enhanced packet block. `frame` is copied (the caller may reuse its buffer at once).
   * An empty or absent comment writes no opt_comment.
   */
  writePacket(
    interfaceId: number,
    timestampUs: number,
    frame: Uint8Array,
    originalLength: number = frame.length,
    comment?: string,
  ): void {
    const iface = this.interfaces[interfaceId];
    if (iface === undefined) {
      throw new RangeError(`interface ${interfaceId} was not added (have ${this.interfaces.length})`);
    }
    const capLen = frame.length;
    if (iface.snapLen !== 0 && capLen > iface.snapLen) {
      throw new RangeError(`captured length ${capLen} exceeds the interface snapLen ${iface.snapLen}`);
    }
    if (!(originalLength >= capLen && originalLength <= 0xffffffff && Number.isInteger(originalLength))) {
      throw new RangeError(`originalLength ${originalLength} must be an integer >= captured length ${capLen}`);
    }
    if (!(timestampUs >= 0 && Number.isSafeInteger(timestampUs))) {
      throw new RangeError(`timestampUs must be a non-negative safe integer, got ${timestampUs}`);
    }
    const dataBytes = padded(capLen);
    // UTF-8 needs at most 3 bytes per UTF-16 unit; reserve that, then commit what was written.
    const commentReserve = comment ? 4 + padded(comment.length * 3) + 4 : 0;
    this.ensure(EPB_FIXED_BYTES + dataBytes + commentReserve);

    const chunk = this.chunk;
    const v = this.view;
    const at = this.pos;
    let o = at + 28 + capLen;
    chunk.set(frame, at + 28);
    for (; o < at + 28 + dataBytes; o++) chunk[o] = 0;
    if (comment) {
      const { written } = utf8.encodeInto(comment, chunk.subarray(o + 4, o + 4 + comment.length * 3));
      if (written > MAX_OPTION_BYTES) {
        throw new RangeError(`opt_comment is ${written} bytes of UTF-8; the limit is ${MAX_OPTION_BYTES}`);
      }
      v.setUint16(o, OPT_COMMENT, true);
      v.setUint16(o + 2, written, true);
      o += 4 + written;
      for (const end = at + padded(o - at); o < end; o++) chunk[o] = 0;
      v.setUint32(o, OPT_ENDOFOPT, true);
      o += 4;
    }
    const total = o + 4 - at;

    // Timestamp in if_tsresol units, split into two 32-bit words without leaving exact integer
    // range: at ns resolution µs × 1000 is beyond 2^53 for present-day dates.
    let high: number;
    let low: number;
    if (iface.scale === 1) {
      high = Math.floor(timestampUs / TWO_POW_32);
      low = timestampUs >>> 0;
    } else {
      const lowProduct = (timestampUs >>> 0) * iface.scale; // < 2^32 × 1000 < 2^53: exact
      high = Math.floor(timestampUs / TWO_POW_32) * iface.scale + Math.floor(lowProduct / TWO_POW_32);
      low = lowProduct >>> 0;
      if (high > 0xffffffff) throw new RangeError(`timestamp ${timestampUs} µs overflows 64 bits at this resolution`);
    }

    v.setUint32(at, BLOCK_EPB, true);
    v.setUint32(at + 4, total, true);
    v.setUint32(at + 8, interfaceId, true);
    v.setUint32(at + 12, high, true);
    v.setUint32(at + 16, low, true);
    v.setUint32(at + 20, capLen, true);
    v.setUint32(at + 24, originalLength, true);
    v.setUint32(o, total, true);
    this.pos = at + total;
  }

  /** Hands everything buffered to the sink (call before closing the destination). */
  flush(): void {
    if (this.pos === 0) return;
    const full = this.chunk.subarray(0, this.pos);
    this.flushedBytes += this.pos;
    this.pos = 0;
    if (!this.reuseChunk || this.chunk.length !== this.chunkBytes) {
      // A fresh chunk: the sink may keep the bytes (e.g. an async stream). An oversized chunk
      // (see ensure) is never kept.
      this.chunk = new Uint8Array(this.chunkBytes);
      this.view = new DataView(this.chunk.buffer);
    }
    this.sink(full);
  }

  private writeSectionHeader(userApplication: string): void {
    const appl = this.encodeOption(userApplication, 'shb_userappl');
    const optionBytes = appl.length > 0 ? 4 + padded(appl.length) + 4 : 0;
    const total = 28 + optionBytes;
    this.ensure(total);
    const v = this.view;
    v.setUint32(0, BLOCK_SHB, true);
    v.setUint32(4, total, true);
    v.setUint32(8, BYTE_ORDER_MAGIC, true);
    v.setUint16(12, 1, true); // major version
    v.setUint16(14, 0, true); // minor version
    // Section length −1: not known in advance (streamed), as the draft allows.
    v.setUint32(16, 0xffffffff, true);
    v.setUint32(20, 0xffffffff, true);
    let o = 24;
    if (appl.length > 0) {
      o = this.putOption(o, SHB_USERAPPL, appl);
      v.setUint32(o, OPT_ENDOFOPT, true);
      o += 4;
    }
    v.setUint32(o, total, true);
    this.pos = total;
  }

  private encodeOption(value: string, what: string): Uint8Array {
    const bytes = utf8.encode(value);
    if (bytes.length > MAX_OPTION_BYTES) {
      throw new RangeError(`${what} is ${bytes.length} bytes of UTF-8; the limit is ${MAX_OPTION_BYTES}`);
    }
    return bytes;
  }

  /** Writes one option (code, length, value, zero padding) at `o`; returns the next offset. */
  private putOption(o: number, code: number, value: Uint8Array): number {
    this.view.setUint16(o, code, true);
    this.view.setUint16(o + 2, value.length, true);
    this.chunk.set(value, o + 4);
    let end = o + 4 + value.length;
    for (const stop = o + 4 + padded(value.length); end < stop; end++) this.chunk[end] = 0;
    return end;
  }

  /** Makes room for `bytes` contiguous bytes at `pos`, flushing or growing as needed. */
  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.chunk.length) return;
    this.flush();
    if (bytes > this.chunk.length) {
      // One oversized block (a jumbo frame or huge comment): a one-off larger chunk.
      this.chunk = new Uint8Array(padded(bytes));
      this.view = new DataView(this.chunk.buffer);
    }
  }
}

/**
 * A synchronous file sink for PcapngWriter: opens (truncates) `path`; call `close()` after the
 * writer's final `flush()`.
 */
export function createFileSink(path: string, options: { readonly exclusive?: boolean } = {}): { sink: ByteSink; close(): void } {
  // exclusive ('wx': O_CREAT | O_EXCL): fails on anything already there, a symbolic link included.
  const fd = openSync(path, options.exclusive === true ? 'wx' : 'w');
  return {
    sink(bytes: Uint8Array): void {
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    },
    close(): void {
      closeSync(fd);
    },
  };
}
