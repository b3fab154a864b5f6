// Writes a capture into a file the way dumpcap writes a live one: the header blocks first,
// then each packet's block when its time comes (scaled by `speed`), appended in place so that
// a reader tailing the file sees it grow packet by packet.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { CaptureReader } from '../../agent/src/capture/capture-reader';

export interface CaptureBlock {
  /** Packet time in µs (the header blocks carry the first packet's time). */
  readonly timeUs: number;
  readonly bytes: Uint8Array;
}

/** The file cut at packet boundaries: each piece ends with one packet's block. */
export function packetBlocks(source: string): CaptureBlock[] {
  const bytes = readFileSync(source);
  const reader = new CaptureReader();
  reader.append(bytes);
  const blocks: CaptureBlock[] = [];
  let start = 0;
  for (let packet = reader.next(); packet !== undefined; packet = reader.next()) {
    const end = reader.nextOffset;
    blocks.push({ timeUs: packet.timestampUs, bytes: bytes.subarray(start, end) });
    start = end;
  }
  reader.finish();
  return blocks;
}

/**
 * Several single-interface pcapng captures interleaved by time into one stream of blocks:
 * the first file's header blocks, then every file's packet blocks in time order. Valid when
 * the files share one link type and timestamp resolution (the simulator's output does).
 */
export function mergedPacketBlocks(sources: readonly string[]): CaptureBlock[] {
  const header: Uint8Array[] = [];
  const packets: CaptureBlock[] = [];
  sources.forEach((source, index) => {
    const bytes = readFileSync(source);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const littleEndian = view.getUint32(8, true) === 0x1a2b3c4d;
    const reader = new CaptureReader();
    reader.append(bytes);
    let start = 0;
    for (let packet = reader.next(); packet !== undefined; packet = reader.next()) {
      const end = reader.nextOffset;
      // A block ends with its own total length: that finds where the packet's block starts.
      const blockStart = end - view.getUint32(end - 4, littleEndian);
      if (index === 0 && blockStart > start) header.push(bytes.subarray(start, blockStart));
      packets.push({ timeUs: packet.timestampUs, bytes: bytes.subarray(blockStart, end) });
      start = end;
    }
    reader.finish();
  });
  packets.sort((a, b) => a.timeUs - b.timeUs);
  if (packets.length > 0) {
    const first = packets[0]!;
    packets[0] = { timeUs: first.timeUs, bytes: Buffer.concat([...header, first.bytes]) };
  }
  return packets;
}

export interface ReplayOptions {
  /** Capture seconds per wall-clock second (default 1: real time). */
  readonly speed?: number;
  /** Stops the replay early when it returns true. */
  readonly stopped?: () => boolean;
  /** Called after each block is written, with the block's index. */
  readonly onBlock?: (index: number, block: CaptureBlock) => void;
}

/** Replays `source` into `target` (created empty first); resolves when every block is written. */
export async function replayCapture(source: string | readonly CaptureBlock[], target: string, options: ReplayOptions = {}): Promise<number> {
  const blocks = typeof source === 'string' ? packetBlocks(source) : source;
  const speed = options.speed ?? 1;
  writeFileSync(target, new Uint8Array(0));
  if (blocks.length === 0) return 0;
  const firstUs = blocks[0]!.timeUs;
  const started = performance.now();
  for (let index = 0; index < blocks.length; index++) {
    if (options.stopped?.()) return index;
    const block = blocks[index]!;
    const dueMs = (block.timeUs - firstUs) / 1000 / speed;
    const waitMs = dueMs - (performance.now() - started);
    if (waitMs > 1) await new Promise((resolve) => setTimeout(resolve, waitMs));
    appendFileSync(target, block.bytes);
    options.onBlock?.(index, block);
  }
  return blocks.length;
}
