/**
 * pcapng block parser (draft-ietf-opsawg-pcapng). Works on complete blocks held by the
 * ByteWindow; a block that is not complete yet is left in place until more bytes arrive.
 */
import { ByteWindow } from './byte-window';
import { CaptureInterface, Step } from './capture-interface';
import { CaptureError } from './errors';
import { decodeFrame } from './frame-decoder';
import { OPT_COMMENT, OptionCursor } from './option-cursor';
import { Packet } from './packet';
import { MICROSECONDS, TimestampConverter, resolutionFromOption } from './timestamps';

export const PCAPNG_MAGIC = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const BLOCK_INTERFACE = 0x00000001;
const BLOCK_OBSOLETE_PACKET = 0x00000002;
const BLOCK_SIMPLE_PACKET = 0x00000003;
const BLOCK_ENHANCED_PACKET = 0x00000006;

const IF_NAME = 2;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;

/** Smallest legal total length per block type: header, fixed fields and trailer. */
function minimumLength(type: number): number {
  switch (type) {
    case PCAPNG_MAGIC:
      return 28;
    case BLOCK_INTERFACE:
      return 20;
    case BLOCK_OBSOLETE_PACKET:
    case BLOCK_ENHANCED_PACKET:
      return 32;
    case BLOCK_SIMPLE_PACKET:
      return 16;
    default:
      return MIN_BLOCK_LENGTH;
  }
}
const MIN_BLOCK_LENGTH = 12;

const utf8 = new TextDecoder('utf-8');

export interface PcapngState {
  readonly littleEndian: boolean;
  readonly interfaces: readonly CaptureInterface[];
  readonly lastTimestampUs: number;
}

export class PcapngParser {
  /** Index in the window's buffer of the last packet's first captured byte. */
  lastFrameStart = 0;
  private littleEndian: boolean;
  private interfaces: CaptureInterface[] = [];
  private converters: TimestampConverter[] = [];
  /**
   * Simple packet blocks carry no timestamp: they inherit the previous packet's. A typed array
   * slot, so that storing a double per packet allocates nothing.
   */
  private readonly lastTimestamp = new Float64Array(1);
  private readonly options = new OptionCursor();

  constructor(
    private readonly maxBlockLength: number,
    state?: PcapngState,
  ) {
    this.littleEndian = state?.littleEndian ?? true;
    if (state) {
      for (const captureInterface of state.interfaces) this.addInterface(captureInterface);
      this.lastTimestamp[0] = state.lastTimestampUs;
    }
  }

  state(): PcapngState {
    return { littleEndian: this.littleEndian, interfaces: [...this.interfaces], lastTimestampUs: this.lastTimestamp[0]! };
  }

  get currentInterfaces(): readonly CaptureInterface[] {
    return this.interfaces;
  }

  step(window: ByteWindow, packet: Packet): Step {
    if (window.available < MIN_BLOCK_LENGTH) return Step.NeedMore;
    const at = window.start;
    const view = window.view;
    const blockOffset = window.absolute(at);
    const type = view.getUint32(at, this.littleEndian);
    // A section header carries its own byte order; every other block uses the section's.
    const littleEndian = type === PCAPNG_MAGIC ? this.sectionByteOrder(view, at, blockOffset) : this.littleEndian;
    const length = view.getUint32(at + 4, littleEndian);
    this.checkLength(type, length, blockOffset);
    if (window.available < length) return Step.NeedMore;
    const trailer = view.getUint32(at + length - 4, littleEndian);
    if (trailer !== length) {
      throw new CaptureError(
        'CAPTURE_TRAILER_MISMATCH',
        blockOffset,
        `block type 0x${type.toString(16)} starts with length ${length} but ends with ${trailer}`,
      );
    }
    let result = Step.Skipped;
    switch (type) {
      case PCAPNG_MAGIC:
        this.readSectionHeader(view, at, littleEndian, blockOffset);
        break;
      case BLOCK_INTERFACE:
        this.readInterface(view, at, length, blockOffset);
        break;
      case BLOCK_ENHANCED_PACKET:
      case BLOCK_OBSOLETE_PACKET:
        this.readPacket(window, type, length, blockOffset, packet);
        result = Step.Packet;
        break;
      case BLOCK_SIMPLE_PACKET:
        this.readSimplePacket(window, length, blockOffset, packet);
        result = Step.Packet;
        break;
      default:
        // Name resolution, statistics, decryption secrets, custom and unknown blocks carry
        // nothing Cumma uses; their length has been validated, so skipping is safe.
        break;
    }
    window.consume(length);
    return result;
  }

  private sectionByteOrder(view: DataView, at: number, blockOffset: number): boolean {
    if (view.getUint32(at + 8, true) === BYTE_ORDER_MAGIC) return true;
    if (view.getUint32(at + 8, false) === BYTE_ORDER_MAGIC) return false;
    throw new CaptureError(
      'CAPTURE_BAD_BYTE_ORDER',
      blockOffset + 8,
      `section header byte-order magic is 0x${view.getUint32(at + 8, false).toString(16)}, expected 0x1a2b3c4d`,
    );
  }

  private checkLength(type: number, length: number, blockOffset: number): void {
    const minimum = minimumLength(type);
    if (length < minimum) {
      throw new CaptureError(
        'CAPTURE_BLOCK_TOO_SHORT',
        blockOffset,
        `block type 0x${type.toString(16)} has length ${length}, less than its ${minimum}-byte minimum`,
      );
    }
    if (length % 4 !== 0) {
      throw new CaptureError('CAPTURE_BLOCK_UNALIGNED', blockOffset, `block length ${length} is not a multiple of 4`);
    }
    if (length > this.maxBlockLength) {
      throw new CaptureError(
        'CAPTURE_BLOCK_TOO_LONG',
        blockOffset,
        `block length ${length} exceeds the ${this.maxBlockLength}-byte limit`,
      );
    }
  }

  private readSectionHeader(view: DataView, at: number, littleEndian: boolean, blockOffset: number): void {
    const major = view.getUint16(at + 12, littleEndian);
    if (major !== 1) {
      throw new CaptureError('CAPTURE_UNSUPPORTED_VERSION', blockOffset + 12, `pcapng major version ${major} (only 1 exists)`);
    }
    // A new section starts afresh: interface ids restart at 0.
    this.littleEndian = littleEndian;
    this.interfaces = [];
    this.converters = [];
  }

  private readInterface(view: DataView, at: number, length: number, blockOffset: number): void {
    const linkType = view.getUint16(at + 8, this.littleEndian);
    const snapLength = view.getUint32(at + 12, this.littleEndian);
    let resolution = MICROSECONDS;
    let offsetSeconds = 0;
    let name: string | undefined;
    const options = this.options;
    options.reset(view, at + 16, at + length - 4, this.littleEndian, blockOffset - at);
    while (options.next()) {
      if (options.code === IF_TSRESOL && options.valueLength >= 1) {
        resolution = resolutionFromOption(view.getUint8(options.valueStart));
      } else if (options.code === IF_TSOFFSET && options.valueLength >= 8) {
        offsetSeconds = Number(view.getBigInt64(options.valueStart, this.littleEndian));
      } else if (options.code === IF_NAME) {
        name = utf8.decode(new Uint8Array(view.buffer, options.valueStart, options.valueLength));
      }
    }
    this.addInterface({ linkType, snapLength, resolution, offsetSeconds, ...(name !== undefined ? { name } : {}) });
  }

  private addInterface(captureInterface: CaptureInterface): void {
    this.interfaces.push(captureInterface);
    this.converters.push(new TimestampConverter(captureInterface.resolution, captureInterface.offsetSeconds));
  }

  private interfaceAt(id: number, blockOffset: number): CaptureInterface {
    const captureInterface = this.interfaces[id];
    if (captureInterface === undefined) {
      throw new CaptureError(
        'CAPTURE_UNKNOWN_INTERFACE',
        blockOffset + 8,
        `packet refers to interface ${id}, but the section defines ${this.interfaces.length}`,
      );
    }
    return captureInterface;
  }

  /** Enhanced (type 6) and obsolete (type 2) packet blocks share their layout but for the id width. */
  private readPacket(window: ByteWindow, type: number, length: number, blockOffset: number, packet: Packet): void {
    const view = window.view;
    const at = window.start;
    const le = this.littleEndian;
    const interfaceId = type === BLOCK_ENHANCED_PACKET ? view.getUint32(at + 8, le) : view.getUint16(at + 8, le);
    const captureInterface = this.interfaceAt(interfaceId, blockOffset);
    const capturedLength = view.getUint32(at + 20, le);
    if (capturedLength > length - 32) {
      throw new CaptureError(
        'CAPTURE_CAPLEN_EXCEEDS_BLOCK',
        blockOffset + 20,
        `captured length ${capturedLength} does not fit in a ${length}-byte block`,
      );
    }
    packet.resetDecoded();
    packet.blockOffset = blockOffset;
    packet.interfaceId = interfaceId;
    packet.linkType = captureInterface.linkType;
    this.converters[interfaceId]!.store(view.getUint32(at + 12, le), view.getUint32(at + 16, le), packet);
    this.lastTimestamp[0] = packet.timestampUs;
    packet.capturedLength = capturedLength;
    packet.originalLength = view.getUint32(at + 24, le);
    const dataStart = at + 28;
    this.lastFrameStart = dataStart;
    const optionsStart = dataStart + ((capturedLength + 3) & ~3);
    const optionsEnd = at + length - 4;
    if (optionsStart < optionsEnd) packet.comments = this.readComments(view, optionsStart, optionsEnd, blockOffset - at);
    decodeFrame(captureInterface.linkType, window.bytes, dataStart, dataStart + capturedLength, packet);
  }

  private readComments(view: DataView, from: number, to: number, absoluteBase: number): readonly string[] {
    let comments: string[] | undefined;
    const options = this.options;
    options.reset(view, from, to, this.littleEndian, absoluteBase);
    while (options.next()) {
      if (options.code !== OPT_COMMENT) continue;
      (comments ??= []).push(utf8.decode(new Uint8Array(view.buffer, options.valueStart, options.valueLength)));
    }
    return comments ?? [];
  }

  private readSimplePacket(window: ByteWindow, length: number, blockOffset: number, packet: Packet): void {
    const view = window.view;
    const at = window.start;
    const captureInterface = this.interfaceAt(0, blockOffset);
    const originalLength = view.getUint32(at + 8, this.littleEndian);
    // The captured length is implied: the smallest of the original length, the snapshot
    // length and the room in the block.
    let capturedLength = Math.min(originalLength, length - 16);
    if (captureInterface.snapLength > 0) capturedLength = Math.min(capturedLength, captureInterface.snapLength);
    packet.resetDecoded();
    packet.blockOffset = blockOffset;
    packet.interfaceId = 0;
    packet.linkType = captureInterface.linkType;
    packet.timestampUs = this.lastTimestamp[0]!;
    packet.capturedLength = capturedLength;
    packet.originalLength = originalLength;
    this.lastFrameStart = at + 12;
    decodeFrame(captureInterface.linkType, window.bytes, at + 12, at + 12 + capturedLength, packet);
  }
}
