// The capture editor's packet index: on files that are not captures at all, as opposed to
// captures cut or corrupted part-way (whose packets before the fault are kept); and on a capture
// that grows while it is open, read incrementally.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureIndexData, CaptureIndexer, HEAD_BYTES, applyDelta, fileStartsWith, indexCapture } from '../../vscode-extension/src/host/capture-index';

const ROOT = join(__dirname, '..', '..');

describe('indexCapture on files that are not captures', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cumma-not-capture-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, bytes: string | Uint8Array): string => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };

  it('says plainly that an empty file is empty', () => {
    expect(() => indexCapture(file('empty.pcapng', ''))).toThrow(/^the file is empty$/);
  });

  it('says plainly that a text file is not a capture, and what it starts with', () => {
    expect(() => indexCapture(file('notes.pcapng', 'just some notes, not packets\n'))).toThrow(/^not a pcap or pcapng capture \(starts with 0x6a757374, "just": text, not a capture\)$/);
    expect(() => indexCapture(file('archive.pcap', Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0])))).toThrow(/^not a pcap or pcapng capture \(.*gzip/);
  });

  it('calls a file shorter than a magic number not a capture when its bytes start none', () => {
    expect(() => indexCapture(file('tiny.pcap', 'ab'))).toThrow(/^not a pcap or pcapng capture \(only 2 bytes\)$/);
  });

  it('calls the first bytes of a magic number a capture cut inside its file header, as the CLI does', () => {
    const sample = readFileSync(join(ROOT, 'samples', 'whatsapp-chat.pcapng'));
    // `head -c N` of a pcapng; a microsecond pcap in either byte order; a nanosecond one.
    const starts: [string, Uint8Array][] = [
      ['wa-1.pcapng', sample.subarray(0, 1)],
      ['wa-2.pcapng', sample.subarray(0, 2)],
      ['wa-3.pcapng', sample.subarray(0, 3)],
      ['le.pcap', Uint8Array.from([0xd4, 0xc3])],
      ['be.pcap', Uint8Array.from([0xa1, 0xb2, 0xc3])],
      ['ns.pcap', Uint8Array.from([0x4d, 0x3c, 0xb2])],
    ];
    for (const [name, bytes] of starts) {
      const path = file(name, bytes);
      const data = indexCapture(path);
      expect(data.packets).toBe(0);
      expect(data.unfinished).toBe(true);
      expect(data.error).toBe(`${path}: byte offset 0: input ends after ${bytes.length} bytes, inside the file header [CAPTURE_TRUNCATED]`);
    }
  });

  it('still reads a capture cut inside its first packet: no packets, a fault, no error thrown', () => {
    const bytes = readFileSync(join(ROOT, 'samples', 'whatsapp-chat.pcapng'));
    // The section header and interface blocks of a pcapng are well under 200 bytes; the first
    // packet block is cut.
    const data = indexCapture(file('cut.pcapng', bytes.subarray(0, 200)));
    expect(data.packets).toBe(0);
    expect(data.error).toMatch(/byte offset \d+: input ends inside a block/);
  });
});

describe('a capture that grows while it is indexed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cumma-growing-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Everything but the name and path, which differ between the two files compared. */
  const content = (data: CaptureIndexData): Omit<CaptureIndexData, 'name' | 'path'> => {
    const { name: _name, path: _path, ...rest } = data;
    return rest;
  };

  for (const sample of ['whatsapp-chat.pcapng', 'telegram-calls.pcapng']) {
    it(`reads only what was appended, and ends with the index of the whole file (${sample})`, () => {
      const bytes = readFileSync(join(ROOT, 'samples', sample));
      const whole = indexCapture(join(ROOT, 'samples', sample));
      const path = join(dir, sample);
      // Cut points anywhere: inside the section header, inside blocks, at the end.
      const cuts = [10, 333, Math.floor(bytes.length / 3) + 7, Math.floor((bytes.length * 2) / 3) + 1, bytes.length];
      writeFileSync(path, '');
      const indexer = new CaptureIndexer(path);
      let index: CaptureIndexData | undefined;
      let written = 0;
      for (const cut of cuts) {
        appendFileSync(path, bytes.subarray(written, cut));
        written = cut;
        const delta = indexer.read();
        expect(delta.firstPacket).toBe(index?.packets ?? 0);
        expect(delta.sizeBytes).toBe(cut);
        // Only the new rows travel.
        expect(delta.timeUs.length).toBe(delta.packets - delta.firstPacket);
        index = applyDelta(index, delta);
        if (cut < bytes.length) {
          expect(index.unfinished).toBe(true);
          expect(index.error).toMatch(/byte offset \d+: input ends inside a block/);
        }
      }
      expect(index!.error).toBeUndefined();
      expect(index!.unfinished).toBeUndefined();
      expect(content(index!)).toEqual(content(whole));
      // Nothing new: an empty delta that changes nothing.
      const idle = indexer.read();
      expect(idle.timeUs.length).toBe(0);
      expect(content(applyDelta(index, idle))).toEqual(content(whole));
    });
  }

  it('keeps the first 4 KiB read, also when they came in pieces, to tell a rewritten file from a grown one', () => {
    const bytes = readFileSync(join(ROOT, 'samples', 'whatsapp-chat.pcapng'));
    const path = join(dir, 'head.pcapng');
    writeFileSync(path, bytes.subarray(0, 1000));
    const indexer = new CaptureIndexer(path);
    expect(Buffer.from(indexer.read().head)).toEqual(bytes.subarray(0, 1000));
    appendFileSync(path, bytes.subarray(1000, 3000));
    expect(Buffer.from(indexer.read().head)).toEqual(bytes.subarray(0, 3000));
    appendFileSync(path, bytes.subarray(3000));
    const head = indexer.read().head;
    expect(Buffer.from(head)).toEqual(bytes.subarray(0, HEAD_BYTES));
    expect(fileStartsWith(path, head)).toBe(true);
    // The same file grown further still starts so; one written over does not.
    appendFileSync(path, bytes.subarray(0, 100));
    expect(fileStartsWith(path, head)).toBe(true);
    writeFileSync(path, readFileSync(join(ROOT, 'samples', 'signal-media.pcapng')));
    expect(fileStartsWith(path, head)).toBe(false);
    // Cut shorter than the head: not the file it was.
    writeFileSync(path, bytes.subarray(0, 100));
    expect(fileStartsWith(path, head)).toBe(false);
  });

  it('refuses a delta that does not follow the index it is applied to', () => {
    const path = join(ROOT, 'samples', 'whatsapp-chat.pcapng');
    const whole = indexCapture(path);
    expect(() => applyDelta(whole, new CaptureIndexer(path).read())).toThrow(/does not follow/);
  });
});
