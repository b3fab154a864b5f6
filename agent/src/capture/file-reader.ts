/**
 * Reads a whole capture file through the incremental reader, straight into its buffer, and
 * hands each packet to a callback. Synchronous: a batch command has nothing else to do, and
 * fs.readSync avoids a promise per chunk.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { CaptureReader, CaptureReaderOptions } from './capture-reader';
import { CaptureError } from './errors';
import { Packet } from './packet';

const CHUNK_LENGTH = 4 * 1024 * 1024;

export interface FileReadSummary {
  readonly bytesRead: number;
  readonly packets: number;
}

function ioError(path: string, offset: number, error: unknown): CaptureError {
  const reason = error instanceof Error ? error.message : String(error);
  return new CaptureError('CAPTURE_IO', offset, `cannot read: ${reason}`, path);
}

/**
 * Calls onPacket for every packet of the file. Throws a CaptureError naming the file and the
 * byte offset on corrupt or truncated input; packets before that point have been delivered.
 */
export function readCaptureFile(
  path: string,
  onPacket: (packet: Packet) => void,
  options: CaptureReaderOptions = {},
): FileReadSummary {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw ioError(path, 0, error);
  }
  const reader = new CaptureReader(options);
  let bytesRead = 0;
  let packets = 0;
  try {
    for (;;) {
      const { buffer, index } = reader.reserve(CHUNK_LENGTH);
      let count: number;
      try {
        count = readSync(fd, buffer, index, CHUNK_LENGTH, bytesRead);
      } catch (error) {
        throw ioError(path, bytesRead, error);
      }
      if (count === 0) break;
      reader.commit(count);
      bytesRead += count;
      for (let packet = reader.next(); packet !== undefined; packet = reader.next()) {
        packets++;
        onPacket(packet);
      }
    }
    reader.finish();
  } catch (error) {
    throw error instanceof CaptureError ? error.inFile(path) : error;
  } finally {
    closeSync(fd);
  }
  return { bytesRead, packets };
}
