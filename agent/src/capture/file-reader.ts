/**
 * Reads a whole capture file through the incremental reader, straight into its buffer, and
 * hands each packet to a callback. Two variants: a synchronous one for small jobs and tests,
 * and a streaming one for commands that read large files, which overlaps reading the next
 * chunk (on libuv's thread pool, so on another core) with decoding the current one.
 */
import { closeSync, fstatSync, openSync, read, readSync } from 'node:fs';
import { isatty } from 'node:tty';
import { sleepSync } from '../common/sleep-sync';
import { CaptureReader, CaptureReaderOptions } from './capture-reader';
import { CaptureError } from './errors';
import { Packet } from './packet';

/**
 * Small enough that a chunk is still in the core's cache (1 MB of L2 on this machine) when it is
 * decoded right after the read copied it there: `cumma classify` on the bench file took 1.71 s
 * (median of 10) with 512 KB chunks against 1.85 s with 4 MB ones.
 */
const CHUNK_LENGTH = 512 * 1024;

/** How a whole file is read: the reader's options, and when to stop early. */
export interface FileReadOptions extends CaptureReaderOptions {
  /**
   * Called after the packets of each chunk were handed over. `sequential`: the input is a pipe,
   * FIFO or standard input, whose next read may wait for its writer (a caller printing as it
   * goes flushes here, so its output does not wait with it). Returning false stops reading there,
   * quietly and without the end-of-input checks: the rest is not wanted (whoever read the output
   * has gone).
   */
  readonly afterChunk?: (sequential: boolean) => boolean;
}

export interface FileReadSummary {
  readonly bytesRead: number;
  readonly packets: number;
}

function ioError(path: string, offset: number, error: unknown): CaptureError {
  const reason = error instanceof Error ? error.message : String(error);
  return new CaptureError('CAPTURE_IO', offset, `cannot read: ${reason}`, path);
}

/** The path that names standard input, as for tshark -r - and most Unix tools. */
export const STANDARD_INPUT = '-';

/** How messages name `path`. */
export function captureDisplayName(path: string): string {
  return path === STANDARD_INPUT ? 'standard input' : path;
}

/**
 * An open capture. Pipes, FIFOs and terminals cannot be read at an offset (pread fails with
 * ESPIPE), so they are read in sequence; standard input is not ours to close.
 */
interface OpenCapture {
  readonly fd: number;
  readonly sequential: boolean;
  readonly owned: boolean;
}

function open(path: string): OpenCapture {
  const name = captureDisplayName(path);
  let capture: OpenCapture;
  try {
    // /dev/stdin cannot be opened when standard input is a socket (ENXIO), as Node's own child
    // processes' pipes are: the descriptor is already open, so use it.
    const stdin = path === STANDARD_INPUT || path === '/dev/stdin';
    capture = stdin ? { fd: 0, sequential: true, owned: false } : { fd: openSync(path, 'r'), sequential: false, owned: true };
  } catch (error) {
    throw ioError(name, 0, error);
  }
  try {
    const stats = fstatSync(capture.fd);
    if (stats.isDirectory()) throw new Error('it is a directory, not a capture file');
    // Reading a terminal would wait for keystrokes: say what to do instead.
    if (isatty(capture.fd)) throw new Error(`${capture.fd === 0 ? 'standard input' : 'it'} is a terminal: pipe a capture in (… | cumma COMMAND -)`);
    return stats.isFile() ? capture : { ...capture, sequential: true };
  } catch (error) {
    if (capture.owned) closeSync(capture.fd);
    throw ioError(name, 0, error);
  }
}

function close(capture: OpenCapture): void {
  if (capture.owned) closeSync(capture.fd);
}

/** A synchronous read that waits out EAGAIN (a non-blocking pipe with nothing in it yet). */
function readChunkSync(capture: OpenCapture, buffer: Uint8Array, index: number, length: number, position: number): number {
  for (;;) {
    try {
      return readSync(capture.fd, buffer, index, length, capture.sequential ? null : position);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      sleepSync(5);
    }
  }
}

/**
 * Receives each packet; `reader` is there for the rare consumer that needs more than headers
 * (reader.frameBytes(), reader.interfaces) during the call.
 */
export type PacketCallback = (packet: Packet, reader: CaptureReader) => void;

/** Runs a read over an open file: errors are attributed to the file, and it is always closed. */
async function withFile<T>(path: string, read: (capture: OpenCapture) => T | Promise<T>): Promise<T> {
  const capture = open(path);
  try {
    return await read(capture);
  } catch (error) {
    throw error instanceof CaptureError ? error.inFile(captureDisplayName(path)) : error;
  } finally {
    close(capture);
  }
}

function drain(reader: CaptureReader, onPacket: PacketCallback): number {
  let packets = 0;
  for (let packet = reader.next(); packet !== undefined; packet = reader.next()) {
    packets++;
    onPacket(packet, reader);
  }
  return packets;
}

/**
 * Calls onPacket for every packet of the file. Throws a CaptureError naming the file and the
 * byte offset on corrupt or truncated input; packets before that point have been delivered.
 */
export function readCaptureFile(path: string, onPacket: PacketCallback, options: FileReadOptions = {}): FileReadSummary {
  const capture = open(path);
  const name = captureDisplayName(path);
  const { afterChunk, ...readerOptions } = options;
  const reader = new CaptureReader(readerOptions);
  let bytesRead = 0;
  let packets = 0;
  try {
    for (;;) {
      const { buffer, index } = reader.reserve(CHUNK_LENGTH);
      let count: number;
      try {
        count = readChunkSync(capture, buffer, index, CHUNK_LENGTH, bytesRead);
      } catch (error) {
        throw ioError(name, bytesRead, error);
      }
      if (count === 0) break;
      reader.commit(count);
      bytesRead += count;
      packets += drain(reader, onPacket);
      if (afterChunk !== undefined && !afterChunk(capture.sequential)) return { bytesRead, packets };
    }
    reader.finish();
  } catch (error) {
    throw error instanceof CaptureError ? error.inFile(name) : error;
  } finally {
    close(capture);
  }
  return { bytesRead, packets };
}

/**
 * Streaming reads smaller chunks into a buffer of many chunks, so compaction is rare. 1 MB: with
 * 2 MB chunks `cumma flows` on the bench file took 0.297–0.304 s (medians of 20), with 1 MB
 * 0.282–0.284 s, with 512 KB 0.288–0.293 s.
 */
const STREAM_CHUNK_LENGTH = 1024 * 1024;
const STREAM_BUFFER_BYTES = 8 * STREAM_CHUNK_LENGTH;

function readAt(capture: OpenCapture, buffer: Uint8Array, index: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const attempt = (): void =>
      read(capture.fd, buffer, index, STREAM_CHUNK_LENGTH, capture.sequential ? null : position, (error, count) => {
        // A non-blocking pipe with nothing in it yet: try again shortly.
        if (error?.code === 'EAGAIN') setTimeout(attempt, 5);
        else if (error) reject(error);
        else resolve(count);
      });
    attempt();
  });
}

/**
 * Like readCaptureFile, but the next chunk is read while the current one is decoded. The
 * read lands beyond the bytes being decoded, in the reader's own buffer, so nothing is copied;
 * the buffer is only compacted or grown between reads.
 */
export function streamCaptureFile(path: string, onPacket: PacketCallback, options: FileReadOptions = {}): Promise<FileReadSummary> {
  const { afterChunk, ...readerOptions } = options;
  return withFile(path, async (capture) => {
    const reader = new CaptureReader({ bufferBytes: STREAM_BUFFER_BYTES, ...readerOptions });
    let bytesRead = 0;
    let packets = 0;
    for (;;) {
      const { buffer, index } = reader.reserve(STREAM_CHUNK_LENGTH);
      const pending = readAt(capture, buffer, index, bytesRead);
      // Decode what is already buffered while the read runs on the thread pool; a failure
      // here must still wait for the read, which writes into the same buffer.
      let decodeError: unknown;
      let stop = false;
      try {
        packets += drain(reader, onPacket);
        // Not before the first chunk: nothing has been handed over yet.
        stop = bytesRead > 0 && afterChunk !== undefined && !afterChunk(capture.sequential);
      } catch (error) {
        decodeError = error;
      }
      if (stop) {
        // A pipe's read may never end (tail -f …): left pending, it only fills a buffer nobody
        // reads. A file's read ends at once, and must before its descriptor is closed.
        if (capture.sequential) pending.catch(() => undefined);
        else await pending.catch(() => undefined);
        return { bytesRead, packets };
      }
      let count: number;
      try {
        count = await pending;
      } catch (error) {
        throw decodeError ?? ioError(captureDisplayName(path), bytesRead, error);
      }
      if (decodeError !== undefined) throw decodeError;
      if (count === 0) break;
      reader.commit(count);
      bytesRead += count;
    }
    packets += drain(reader, onPacket);
    reader.finish();
    return { bytesRead, packets };
  });
}
