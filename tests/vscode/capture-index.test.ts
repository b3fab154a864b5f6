// The capture editor's packet index: on files that are not captures at all, as opposed to
// captures cut or corrupted part-way (whose packets before the fault are kept); and on a capture
// that grows while it is open, read incrementally.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureIndexData, CaptureIndexer, applyDelta, indexCapture } from '../../vscode-extension/src/host/capture-index';

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

  it('calls a file too short to hold a capture header not a capture', () => {
    expect(() => indexCapture(file('tiny.pcap', 'ab'))).toThrow(/^not a pcap or pcapng capture \(only 2 bytes\)$/);
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

  it('refuses a delta that does not follow the index it is applied to', () => {
    const path = join(ROOT, 'samples', 'whatsapp-chat.pcapng');
    const whole = indexCapture(path);
    expect(() => applyDelta(whole, new CaptureIndexer(path).read())).toThrow(/does not follow/);
  });
});
