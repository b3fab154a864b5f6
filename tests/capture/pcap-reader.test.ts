import { describe, expect, it } from 'vitest';
import { CaptureError } from '../../agent/src/capture/errors';
import { DecodeStatus } from '../../agent/src/capture/packet';
import { bytes, ethernet, fields, ipv4, pcapHeader, pcapRecord, udp } from '../support/capture-bytes';
import { readInChunks, readWhole } from '../support/read-all';

const frame = ethernet(0x0800, ipv4({ src: '10.1.1.1', dst: '10.2.2.2', protocol: 17, payload: udp(1234, 4321, 100) }));

describe('classic pcap reader', () => {
  it.each([
    [true, false, 1_700_000_000, 250_000, 1_700_000_000_250_000],
    [false, false, 1_700_000_000, 250_000, 1_700_000_000_250_000],
    [true, true, 1_700_000_000, 250_000_999, 1_700_000_000_250_000],
    [false, true, 1_700_000_000, 999_999_999, 1_700_000_000_999_999],
  ])('reads little-endian=%s nanosecond=%s records', (littleEndian, nanoseconds, seconds, fraction, expectedUs) => {
    const data = bytes(pcapHeader({ littleEndian, nanoseconds, linkType: 1 }), pcapRecord(littleEndian, seconds, fraction, frame, frame.length + 4));
    const [packet] = readWhole(data);
    expect(packet).toMatchObject({
      blockOffset: 24,
      linkType: 1,
      timestampUs: expectedUs,
      capturedLength: frame.length,
      originalLength: frame.length + 4,
      status: DecodeStatus.Transport,
      srcPort: 1234,
      dstPort: 4321,
      payloadLength: 100,
    });
  });

  it('ignores the FCS bits above the link type', () => {
    const data = bytes(pcapHeader({ littleEndian: true, linkType: 1 | (0x1 << 28) | (2 << 29) }), pcapRecord(true, 1, 0, frame));
    expect(readWhole(data)[0]!.linkType).toBe(1);
  });

  it('reads the 24-byte record headers of the modified pcap format', () => {
    const header = pcapHeader({ littleEndian: true, linkType: 1 });
    new DataView(header.buffer).setUint32(0, 0xa1b2cd34, true);
    const record = fields(true).u32(5).u32(6).u32(frame.length).u32(frame.length).u32(2).u16(0x0800).u8(0).u8(0).raw(frame).done();
    expect(readWhole(bytes(header, record))[0]).toMatchObject({ timestampUs: 5_000_006, dstPort: 4321 });
  });

  it('gives the same packets when fed one byte at a time', () => {
    const data = bytes(pcapHeader({ littleEndian: false, linkType: 1 }), pcapRecord(false, 1, 2, frame), pcapRecord(false, 3, 4, frame));
    expect(readInChunks(data, [1])).toEqual(readWhole(data));
  });

  it('reports CAPTURE_TRUNCATED at the record that the file cuts', () => {
    const data = bytes(pcapHeader({ littleEndian: true, linkType: 1 }), pcapRecord(true, 1, 2, frame), pcapRecord(true, 3, 4, frame));
    const cut = data.subarray(0, data.length - 5);
    let caught: unknown;
    try {
      readWhole(cut);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CaptureError);
    expect((caught as CaptureError).code).toBe('CAPTURE_TRUNCATED');
    expect((caught as CaptureError).offset).toBe(24 + 16 + frame.length);
    expect((caught as CaptureError).message).toContain(`input ends inside a packet record: ${16 + frame.length - 5} of ${16 + frame.length} bytes`);
    // Cut inside the record header, where the record's length is not known yet.
    const inHeader = data.subarray(0, 24 + 16 + frame.length + 10);
    expect(() => readWhole(inHeader)).toThrowError(/input ends inside a packet record: 10 of at least 16 bytes present/);
  });

  it('reports CAPTURE_BLOCK_TOO_LONG for an absurd captured length', () => {
    const record = pcapRecord(true, 1, 2, frame);
    new DataView(record.buffer).setUint32(8, 0x20000000, true);
    const data = bytes(pcapHeader({ littleEndian: true, linkType: 1 }), record);
    expect(() => readWhole(data)).toThrowError(expect.objectContaining({ code: 'CAPTURE_BLOCK_TOO_LONG', offset: 32 }));
  });

  it('reports CAPTURE_UNSUPPORTED_VERSION for a major version other than 2', () => {
    const header = pcapHeader({ littleEndian: true, linkType: 1 });
    new DataView(header.buffer).setUint16(4, 3, true);
    expect(() => readWhole(header)).toThrowError(expect.objectContaining({ code: 'CAPTURE_UNSUPPORTED_VERSION', offset: 4 }));
  });

  it('reports CAPTURE_TRUNCATED when the file stops inside the file header', () => {
    const header = pcapHeader({ littleEndian: true, linkType: 1 }).subarray(0, 10);
    expect(() => readWhole(header)).toThrowError(expect.objectContaining({ code: 'CAPTURE_TRUNCATED', offset: 0 }));
  });
});
