/**
 * Classic libpcap files: a 24-byte file header, then records of a 16-byte header and the
 * frame. Both byte orders, microsecond and nanosecond magics, and the 24-byte record headers
 * of Alexey Kuznetsov's modified format.
 */
import { ByteWindow } from './byte-window';
import { CaptureInterface, Step } from './capture-interface';
import { CaptureError } from './errors';
import { decodeFrame } from './frame-decoder';
import { Packet } from './packet';

export const PCAP_FILE_HEADER_LENGTH = 24;

const MAGIC_MICROSECONDS = 0xa1b2c3d4;
const MAGIC_NANOSECONDS = 0xa1b23c4d;
const MAGIC_MODIFIED = 0xa1b2cd34;
/** Every magic number a pcap file header may start with (written in either byte order). */
export const PCAP_MAGICS: readonly number[] = [MAGIC_MICROSECONDS, MAGIC_NANOSECONDS, MAGIC_MODIFIED];

export interface PcapState {
  readonly littleEndian: boolean;
  readonly nanoseconds: boolean;
  readonly recordHeaderLength: number;
  readonly linkType: number;
  readonly snapLength: number;
}

/** Reads the magic at the window start: undefined when the bytes are not a pcap header. */
export function pcapByteOrder(view: DataView, at: number): { littleEndian: boolean; magic: number } | undefined {
  for (const littleEndian of [true, false]) {
    const magic = view.getUint32(at, littleEndian);
    if (magic === MAGIC_MICROSECONDS || magic === MAGIC_NANOSECONDS || magic === MAGIC_MODIFIED) {
      return { littleEndian, magic };
    }
  }
  return undefined;
}

/** Parses the file header; the caller has checked the magic and that 24 bytes are present. */
export function readPcapHeader(window: ByteWindow): PcapState {
  const view = window.view;
  const at = window.start;
  const order = pcapByteOrder(view, at);
  if (!order) throw new CaptureError('CAPTURE_UNKNOWN_FORMAT', window.offset, 'not a pcap file header');
  const { littleEndian, magic } = order;
  const major = view.getUint16(at + 4, littleEndian);
  if (major !== 2) {
    throw new CaptureError('CAPTURE_UNSUPPORTED_VERSION', window.offset + 4, `pcap major version ${major} (expected 2)`);
  }
  const state: PcapState = {
    littleEndian,
    nanoseconds: magic === MAGIC_NANOSECONDS,
    recordHeaderLength: magic === MAGIC_MODIFIED ? 24 : 16,
    snapLength: view.getUint32(at + 16, littleEndian),
    // The upper bits of the link-type field hold FCS information, not the link type.
    linkType: view.getUint32(at + 20, littleEndian) & 0x0fffffff,
  };
  window.consume(PCAP_FILE_HEADER_LENGTH);
  return state;
}

export class PcapParser {
  /** Index in the window's buffer of the last packet's first captured byte. */
  lastFrameStart = 0;
  private readonly captureInterface: CaptureInterface;

  constructor(
    readonly state: PcapState,
    private readonly maxBlockLength: number,
  ) {
    this.captureInterface = {
      linkType: state.linkType & 0xffff,
      snapLength: state.snapLength,
      resolution: { base: 10, exponent: state.nanoseconds ? 9 : 6 },
      offsetSeconds: 0,
    };
  }

  get currentInterfaces(): readonly CaptureInterface[] {
    return [this.captureInterface];
  }

  step(window: ByteWindow, packet: Packet): Step {
    const headerLength = this.state.recordHeaderLength;
    if (window.available < headerLength) return Step.NeedMore;
    const view = window.view;
    const at = window.start;
    const le = this.state.littleEndian;
    const recordOffset = window.absolute(at);
    const capturedLength = view.getUint32(at + 8, le);
    if (capturedLength > this.maxBlockLength) {
      throw new CaptureError(
        'CAPTURE_BLOCK_TOO_LONG',
        recordOffset + 8,
        `record claims ${capturedLength} captured bytes, more than the ${this.maxBlockLength}-byte limit`,
      );
    }
    if (window.available < headerLength + capturedLength) return Step.NeedMore;
    const seconds = view.getUint32(at, le);
    const fraction = view.getUint32(at + 4, le);
    packet.resetDecoded();
    packet.blockOffset = recordOffset;
    packet.interfaceId = 0;
    packet.linkType = this.captureInterface.linkType;
    packet.timestampUs = seconds * 1_000_000 + (this.state.nanoseconds ? Math.floor(fraction / 1000) : fraction);
    packet.capturedLength = capturedLength;
    packet.originalLength = view.getUint32(at + 12, le);
    const dataStart = at + headerLength;
    this.lastFrameStart = dataStart;
    decodeFrame(this.captureInterface.linkType, window.bytes, dataStart, dataStart + capturedLength, packet);
    window.consume(headerLength + capturedLength);
    return Step.Packet;
  }
}
