import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CaptureReader } from '../../agent/src/capture/capture-reader';
import { CaptureError } from '../../agent/src/capture/errors';
import { DecodeStatus } from '../../agent/src/capture/packet';
import {
  TCP_FLAGS,
  block,
  bytes,
  enhancedPacket,
  ethernet,
  fields,
  interfaceDescription,
  ipv4,
  obsoletePacket,
  sectionHeader,
  simplePacket,
  tcp,
  udp,
} from '../support/capture-bytes';
import { readInChunks, readWhole } from '../support/read-all';

const frame = ethernet(0x0800, ipv4({ src: '10.0.0.1', dst: '192.168.1.2', protocol: 17, payload: udp(5000, 53, 12) }));
// 14 Ethernet + 20 IPv4 + 8 UDP + 12 payload
const FRAME_LENGTH = 54;

function capture(littleEndian: boolean): Uint8Array {
  return bytes(
    sectionHeader(littleEndian),
    interfaceDescription(littleEndian, { linkType: 1, snapLength: 65535 }),
    enhancedPacket(littleEndian, { timestamp: 1_700_000_000_123_456n, data: frame, comments: ['cumma:usage=text session=1 dialog=2'] }),
    enhancedPacket(littleEndian, { timestamp: 1_700_000_001_000_000n, data: frame.subarray(0, 40), originalLength: FRAME_LENGTH }),
  );
}

function expectCaptureError(run: () => unknown, code: string, offset: number): CaptureError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(CaptureError);
  const error = caught as CaptureError;
  expect(error.code).toBe(code);
  expect(error.offset).toBe(offset);
  expect(error.message).toContain(`byte offset ${offset}`);
  return error;
}

describe('pcapng reader', () => {
  it('reads enhanced packet blocks with timestamps, lengths, comments and decoded headers', () => {
    const packets = readWhole(capture(true));
    expect(packets).toHaveLength(2);
    const [first, second] = packets;
    expect(first).toMatchObject({
      interfaceId: 0,
      linkType: 1,
      timestampUs: 1_700_000_000_123_456,
      capturedLength: FRAME_LENGTH,
      originalLength: FRAME_LENGTH,
      comments: ['cumma:usage=text session=1 dialog=2'],
      status: DecodeStatus.Transport,
      ipVersion: 4,
      ipProtocol: 17,
      srcPort: 5000,
      dstPort: 53,
      payloadLength: 12,
    });
    expect(first!.src[0]).toBe(0x0a000001);
    expect(first!.dst[0]).toBe(0xc0a80102);
    // Cut by the snapshot length after the UDP header: still decoded, original length kept.
    expect(second).toMatchObject({ capturedLength: 40, originalLength: FRAME_LENGTH, comments: [], status: DecodeStatus.Transport, payloadLength: 12 });
  });

  it('gives the same packets for big-endian and little-endian sections', () => {
    const little = readWhole(capture(true));
    const big = readWhole(capture(false));
    expect(big).toEqual(little);
  });

  it('reports each packet at its block offset', () => {
    const data = capture(true);
    const shbLength = sectionHeader(true).length;
    const idbLength = interfaceDescription(true, { linkType: 1, snapLength: 65535 }).length;
    const packets = readWhole(data);
    expect(packets[0]!.blockOffset).toBe(shbLength + idbLength);
  });

  it('gives the same result when fed one byte at a time', () => {
    for (const littleEndian of [true, false]) {
      const data = capture(littleEndian);
      expect(readInChunks(data, [1])).toEqual(readWhole(data));
    }
  });

  it('resets interfaces at every section header, whatever its byte order', () => {
    const data = bytes(
      sectionHeader(true),
      interfaceDescription(true, { linkType: 1 }),
      enhancedPacket(true, { timestamp: 1n, data: frame }),
      sectionHeader(false),
      interfaceDescription(false, { linkType: 101 }),
      enhancedPacket(false, { timestamp: 2n, data: frame.subarray(14) }),
    );
    const packets = readWhole(data);
    expect(packets.map((packet) => [packet.linkType, packet.interfaceId, packet.status, packet.srcPort])).toEqual([
      [1, 0, DecodeStatus.Transport, 5000],
      [101, 0, DecodeStatus.Transport, 5000],
    ]);
  });

  it('refuses a packet on an interface of a previous section', () => {
    const second = sectionHeader(true);
    const prefix = bytes(sectionHeader(true), interfaceDescription(true, { linkType: 1 }), enhancedPacket(true, { timestamp: 1n, data: frame }));
    const data = bytes(prefix, second, enhancedPacket(true, { timestamp: 2n, data: frame }));
    expectCaptureError(() => readWhole(data), 'CAPTURE_UNKNOWN_INTERFACE', prefix.length + second.length + 8);
  });

  it.each([
    // [tsresol byte, timestamp units, expected µs]
    [6, 1_700_000_000_123_456n, 1_700_000_000_123_456],
    [9, 1_700_000_000_123_456_789n, 1_700_000_000_123_456],
    [3, 1_700_000_000_123n, 1_700_000_000_123_000],
    [0, 1_700_000_000n, 1_700_000_000_000_000],
    // 2^-20 s units: 1 s + 2^19 units = 1.5 s
    [0x80 | 20, (1n << 20n) + (1n << 19n), 1_500_000],
    // 2^-32 s units (NTP-like): 1_700_000_000 s + 2^31 units = 1_700_000_000.5 s
    [0x80 | 32, (1_700_000_000n << 32n) + (1n << 31n), 1_700_000_000_500_000],
    // 2^-10 s: 1023 units = 0.9990234375 s → 999 023 µs floored
    [0x80 | 10, 1023n, 999_023],
  ])('converts if_tsresol %i timestamps exactly', (tsresol, timestamp, expected) => {
    const data = bytes(sectionHeader(true), interfaceDescription(true, { linkType: 1, tsresol }), enhancedPacket(true, { timestamp, data: frame }));
    expect(readWhole(data)[0]!.timestampUs).toBe(expected);
  });

  it('adds if_tsoffset seconds, negative ones too', () => {
    for (const [offset, expected] of [
      [1_600_000_000n, 1_600_000_000_000_001],
      [-5n, -4_999_999],
    ] as const) {
      const data = bytes(
        sectionHeader(false),
        interfaceDescription(false, { linkType: 1, tsoffsetSeconds: offset }),
        enhancedPacket(false, { timestamp: 1n, data: frame }),
      );
      expect(readWhole(data)[0]!.timestampUs).toBe(expected);
    }
  });

  it('reads simple packet blocks: interface 0, snapshot length and the previous timestamp', () => {
    const data = bytes(
      sectionHeader(true),
      interfaceDescription(true, { linkType: 1, snapLength: 40 }),
      enhancedPacket(true, { timestamp: 42n, data: frame.subarray(0, 40), originalLength: FRAME_LENGTH }),
      simplePacket(true, frame),
    );
    const [, simple] = readWhole(data);
    expect(simple).toMatchObject({ interfaceId: 0, timestampUs: 42, capturedLength: 40, originalLength: FRAME_LENGTH, srcPort: 5000 });
  });

  it('reads obsolete packet blocks (type 2) with their comments', () => {
    const data = bytes(
      sectionHeader(false),
      interfaceDescription(false, { linkType: 1 }),
      interfaceDescription(false, { linkType: 101 }),
      obsoletePacket(false, { interfaceId: 1, timestamp: 7n, data: frame.subarray(14), comments: ['a', 'b'] }),
    );
    expect(readWhole(data)[0]).toMatchObject({ interfaceId: 1, linkType: 101, timestampUs: 7, comments: ['a', 'b'], dstPort: 53 });
  });

  it('skips name resolution, statistics, decryption secrets, custom and unknown blocks', () => {
    const le = true;
    const data = bytes(
      sectionHeader(le),
      block(le, 0x00000004, fields(le).u16(1).u16(8).raw(Uint8Array.of(10, 0, 0, 1)).raw(new TextEncoder().encode('h.x\0')).u16(0).u16(0).done()),
      interfaceDescription(le, { linkType: 1 }),
      block(le, 0x00000005, fields(le).u32(0).u32(0).u32(1).done(), [{ code: 1, value: new TextEncoder().encode('stats') }]),
      block(le, 0x0000000a, fields(le).u32(0x544c534b).u32(5).raw(new TextEncoder().encode('keys!')).done()),
      block(le, 0x00000bad, fields(le).u32(32473).raw(Uint8Array.of(1, 2, 3)).done()),
      block(le, 0x40000bad, fields(le).u32(32473).done()),
      block(le, 0x12345678, new Uint8Array(20)),
      enhancedPacket(le, { timestamp: 9n, data: frame }),
    );
    const packets = readWhole(data);
    expect(packets).toHaveLength(1);
    expect(packets[0]!.timestampUs).toBe(9);
  });

  it('decodes a TCP SYN through 802.1Q and 802.1ad tags', () => {
    const tagged = ethernet(0x0800, ipv4({ src: '1.2.3.4', dst: '5.6.7.8', protocol: 6, payload: tcp(40000, 443, TCP_FLAGS.SYN) }), [0x88a8, 0x8100]);
    const data = bytes(sectionHeader(true), interfaceDescription(true, { linkType: 1 }), enhancedPacket(true, { timestamp: 1n, data: tagged }));
    expect(readWhole(data)[0]).toMatchObject({ status: DecodeStatus.Transport, srcPort: 40000, dstPort: 443, tcpFlags: TCP_FLAGS.SYN });
  });

  it('marks packets of an unsupported link type undecodable without failing', () => {
    const data = bytes(
      sectionHeader(true),
      interfaceDescription(true, { linkType: 127 }),
      interfaceDescription(true, { linkType: 1 }),
      enhancedPacket(true, { timestamp: 1n, data: frame }),
      enhancedPacket(true, { interfaceId: 1, timestamp: 2n, data: frame }),
    );
    expect(readWhole(data).map((packet) => packet.status)).toEqual([DecodeStatus.UnsupportedLink, DecodeStatus.Transport]);
  });
});

describe('pcapng reader errors', () => {
  const head = bytes(sectionHeader(true), interfaceDescription(true, { linkType: 1 }));
  const good = enhancedPacket(true, { timestamp: 1n, data: frame });

  function withPatchedBlock(patch: (block: Uint8Array, view: DataView) => void): Uint8Array {
    const damaged = good.slice();
    patch(damaged, new DataView(damaged.buffer));
    return bytes(head, good, damaged, good);
  }
  const damagedAt = head.length + good.length;

  it('reports CAPTURE_UNKNOWN_FORMAT if the magic is neither pcap nor pcapng', () => {
    const error = expectCaptureError(() => readWhole(new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n')), 'CAPTURE_UNKNOWN_FORMAT', 0);
    expect(error.message).toContain('not a pcap or pcapng');
    expect(error.message).toContain('0x47455420, "GET ": text, not a capture');
  });

  it('says when CAPTURE_UNKNOWN_FORMAT is a compressed capture', () => {
    const capture = bytes(head, good);
    const gzip = expectCaptureError(() => readWhole(gzipSync(capture)), 'CAPTURE_UNKNOWN_FORMAT', 0);
    expect(gzip.message).toMatch(/starts with 0x1f8b08[0-9a-f]{2}: gzip-compressed: decompress it first/);
    // Not recognised on the first two bytes alone: binary junk keeps the plain hex form.
    const junk = expectCaptureError(() => readWhole(Uint8Array.of(0x1f, 0x8c, 0, 0, 0, 0, 0, 0)), 'CAPTURE_UNKNOWN_FORMAT', 0);
    expect(junk.message).toContain('(starts with 0x1f8c0000)');
  });

  it('reports CAPTURE_BAD_BYTE_ORDER if the section byte-order magic is wrong', () => {
    const data = sectionHeader(true);
    data[8] = 0;
    expectCaptureError(() => readWhole(data), 'CAPTURE_BAD_BYTE_ORDER', 8);
  });

  it('reports CAPTURE_UNSUPPORTED_VERSION if the section major version is not 1', () => {
    expectCaptureError(() => readWhole(sectionHeader(true, [], 2)), 'CAPTURE_UNSUPPORTED_VERSION', 12);
  });

  it('reports CAPTURE_BLOCK_UNALIGNED if a block length is not a multiple of 4', () => {
    const data = withPatchedBlock((_, view) => view.setUint32(4, good.length + 2, true));
    expectCaptureError(() => readWhole(data), 'CAPTURE_BLOCK_UNALIGNED', damagedAt);
  });

  it('reports CAPTURE_BLOCK_TOO_SHORT if a block length is smaller than its header', () => {
    const data = withPatchedBlock((_, view) => view.setUint32(4, 8, true));
    expectCaptureError(() => readWhole(data), 'CAPTURE_BLOCK_TOO_SHORT', damagedAt);
  });

  it('reports CAPTURE_BLOCK_TOO_SHORT if an enhanced packet block is too short for its fields', () => {
    const data = withPatchedBlock((_, view) => view.setUint32(4, 28, true));
    expectCaptureError(() => readWhole(data), 'CAPTURE_BLOCK_TOO_SHORT', damagedAt);
  });

  it('reports CAPTURE_BLOCK_TOO_LONG if a block claims more than 256 MiB, without waiting for it', () => {
    const data = withPatchedBlock((_, view) => view.setUint32(4, 0x7ffffffc, true));
    const reader = new CaptureReader();
    reader.append(data.subarray(0, damagedAt + 12));
    expect(reader.next()).toBeDefined();
    expectCaptureError(() => reader.next(), 'CAPTURE_BLOCK_TOO_LONG', damagedAt);
  });

  it('reports CAPTURE_TRAILER_MISMATCH if the trailing length disagrees', () => {
    const data = withPatchedBlock((damaged, view) => view.setUint32(damaged.length - 4, 12, true));
    expectCaptureError(() => readWhole(data), 'CAPTURE_TRAILER_MISMATCH', damagedAt);
  });

  it('reports CAPTURE_CAPLEN_EXCEEDS_BLOCK if the captured length does not fit in the block', () => {
    const data = withPatchedBlock((_, view) => view.setUint32(20, 4096, true));
    expectCaptureError(() => readWhole(data), 'CAPTURE_CAPLEN_EXCEEDS_BLOCK', damagedAt + 20);
  });

  it('reports CAPTURE_BAD_OPTION if an option runs past its block', () => {
    const commented = enhancedPacket(true, { timestamp: 1n, data: frame, comments: ['hello'] });
    const view = new DataView(commented.buffer);
    const optionAt = 28 + ((frame.length + 3) & ~3);
    view.setUint16(optionAt + 2, 200, true);
    expectCaptureError(() => readWhole(bytes(head, commented)), 'CAPTURE_BAD_OPTION', head.length + optionAt);
  });

  it('reports CAPTURE_TRUNCATED if the input ends inside a block, after delivering the packets before it', () => {
    const data = bytes(head, good, good).subarray(0, head.length + good.length + 10);
    const reader = new CaptureReader();
    reader.append(data);
    expect(reader.next()).toBeDefined();
    expect(reader.next()).toBeUndefined(); // incomplete: waits, no error
    expect(reader.nextOffset).toBe(head.length + good.length);
    const error = expectCaptureError(() => reader.finish(), 'CAPTURE_TRUNCATED', head.length + good.length);
    expect(error.message).toContain(`10 of ${good.length} bytes`);
  });

  it('says what finish() would report about an incomplete last block without ending the input', () => {
    const whole = bytes(head, good, good);
    const reader = new CaptureReader();
    expect(reader.incompleteTail()).toBeUndefined(); // nothing yet: no block begun
    reader.append(whole.subarray(0, head.length + good.length + 10));
    expect(reader.next()).toBeDefined();
    expect(reader.next()).toBeUndefined();
    const tail = reader.incompleteTail();
    expect(tail).toBeInstanceOf(CaptureError);
    expect(tail!.code).toBe('CAPTURE_TRUNCATED');
    expect(tail!.offset).toBe(head.length + good.length);
    expect(tail!.message).toBe(`byte offset ${head.length + good.length}: input ends inside a block: 10 of ${good.length} bytes present [CAPTURE_TRUNCATED]`);
    // Asking changes nothing: the rest of the block comes, and reading goes on.
    reader.append(whole.subarray(head.length + good.length + 10));
    expect(reader.next()).toBeDefined();
    expect(reader.incompleteTail()).toBeUndefined();
    expect(() => reader.finish()).not.toThrow();
  });

  it('says an input cut inside the file header is incomplete, and an empty one is not (yet)', () => {
    const reader = new CaptureReader();
    reader.append(head.subarray(0, 10));
    expect(reader.next()).toBeUndefined();
    expect(reader.incompleteTail()?.message).toMatch(/^byte offset 0: input ends inside a block: 10 of \d+ bytes present \[CAPTURE_TRUNCATED\]$/);
    expect(new CaptureReader().incompleteTail()).toBeUndefined();
  });

  it('reports CAPTURE_TRUNCATED for an empty input', () => {
    const error = expectCaptureError(() => readWhole(new Uint8Array(0)), 'CAPTURE_TRUNCATED', 0);
    expect(error.message).toContain('empty');
  });

  it('keeps failing with the same error once corrupt input was seen', () => {
    const data = withPatchedBlock((_, view) => view.setUint32(4, 8, true));
    const reader = new CaptureReader();
    reader.append(data);
    expect(reader.next()).toBeDefined();
    const first = expectCaptureError(() => reader.next(), 'CAPTURE_BLOCK_TOO_SHORT', damagedAt);
    let again: unknown;
    try {
      reader.next();
    } catch (error) {
      again = error;
    }
    expect(again).toBe(first);
  });
});

describe('pcapng checkpoints', () => {
  it('resumes from a checkpoint with the section byte order and interfaces', () => {
    const le = false;
    const data = bytes(
      sectionHeader(le),
      interfaceDescription(le, { linkType: 113, tsresol: 9 }),
      interfaceDescription(le, { linkType: 1 }),
      enhancedPacket(le, { interfaceId: 1, timestamp: 5n, data: frame }),
      enhancedPacket(le, { interfaceId: 1, timestamp: 6n, data: frame }),
      enhancedPacket(le, { interfaceId: 1, timestamp: 7n, data: frame }),
    );
    const all = readWhole(data);
    const reader = new CaptureReader();
    reader.append(data.subarray(0, data.length - 30));
    expect(reader.next()).toBeDefined();
    const checkpoint = JSON.parse(JSON.stringify(reader.checkpoint()));
    const resumed = CaptureReader.resume(checkpoint);
    resumed.append(data.subarray(checkpoint.offset));
    const rest = [];
    for (let packet = resumed.next(); packet; packet = resumed.next()) rest.push(packet.timestampUs);
    resumed.finish();
    expect(rest).toEqual(all.slice(1).map((packet) => packet.timestampUs));
    expect(resumed.interfaces.map((captureInterface) => captureInterface.linkType)).toEqual([113, 1]);
  });
});
