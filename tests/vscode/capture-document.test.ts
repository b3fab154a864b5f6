// A capture open in the capture editor while its file changes under it: the CaptureDocument the
// editor reads from, with its real index worker (bundled here with esbuild, as build.mjs does)
// and the real watchFile polling once a second. A file rewritten in place — the same inode,
// longer, or just as long — is read again from the start, also after a fault; one that grows is
// read on incrementally.
import { build } from 'esbuild';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as vscode from 'vscode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CaptureDocument, IndexChange } from '../../vscode-extension/src/host/capture-document';
import { indexCapture } from '../../vscode-extension/src/host/capture-index';

const ROOT = join(__dirname, '..', '..');
const SAMPLES = join(ROOT, 'samples');
const WHATSAPP = join(SAMPLES, 'whatsapp-chat.pcapng');
const SIGNAL = join(SAMPLES, 'signal-media.pcapng');

describe('CaptureDocument following its file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cumma-document-'));
  const workerScript = join(dir, 'capture-worker.js');
  const open: CaptureDocument[] = [];

  beforeAll(async () => {
    await build({
      entryPoints: [join(ROOT, 'vscode-extension', 'src', 'host', 'capture-worker.ts')],
      outfile: workerScript,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      logLevel: 'warning',
    });
  });
  afterEach(() => {
    for (const document of open.splice(0)) document.dispose();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Opens `path` as the editor does (only the Uri's fsPath is used) and records each change. */
  function openDocument(path: string): { document: CaptureDocument; changes: IndexChange[] } {
    const changes: IndexChange[] = [];
    const document = new CaptureDocument({ fsPath: path } as vscode.Uri, workerScript, () => undefined, (change) => changes.push(change));
    open.push(document);
    return { document, changes };
  }

  async function until(what: string, probe: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!probe()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('reads a capture written over in place by a longer one again from the start (cat other > it)', async () => {
    const path = join(dir, 'rewritten-longer.pcapng');
    copyFileSync(WHATSAPP, path);
    const { document } = openDocument(path);
    await until('the first reading', () => document.index?.packets === 865);
    const expected = indexCapture(SIGNAL);
    expect(readFileSync(SIGNAL).length).toBeGreaterThan(readFileSync(WHATSAPP).length);
    // Truncates and writes the same inode, as the shell's `>` does.
    writeFileSync(path, readFileSync(SIGNAL));
    await until(`signal-media's ${expected.packets} packets`, () => document.index?.packets === expected.packets && document.index.error === undefined);
    expect(document.index!.sizeBytes).toBe(expected.sizeBytes);
    expect(Array.from(document.index!.timeUs)).toEqual(Array.from(expected.timeUs));
  });

  it('reads a capture replaced by another of the same size again (cp over it)', async () => {
    const path = join(dir, 'same-size.pcapng');
    const size = readFileSync(WHATSAPP).length;
    copyFileSync(WHATSAPP, path);
    const { document } = openDocument(path);
    await until('the first reading', () => document.index?.packets === 865);
    // signal-media cut to whatsapp-chat's length: as long, other bytes from the first block on.
    const other = join(dir, 'other.pcapng');
    writeFileSync(other, readFileSync(SIGNAL).subarray(0, size));
    const expected = indexCapture(other);
    expect(expected.packets).not.toBe(865);
    copyFileSync(other, path);
    await until(`the other capture's ${expected.packets} packets`, () => document.index?.packets === expected.packets);
    expect(document.index!.sizeBytes).toBe(size);
    expect(document.index!.error).toBe(expected.error?.replace(other, path));
    expect(Array.from(document.index!.timeUs)).toEqual(Array.from(expected.timeUs));
  });

  it('leaves a fault behind once the file is rewritten with other first bytes', async () => {
    const path = join(dir, 'faulty.pcapng');
    const good = readFileSync(WHATSAPP);
    // The section header's block length made odd: read up to a fault at byte 0.
    const faulty = Buffer.from(good);
    faulty.writeUInt32LE(faulty.readUInt32LE(4) + 1, 4);
    writeFileSync(path, faulty);
    const { document } = openDocument(path);
    await until('the fault', () => /CAPTURE_BLOCK_UNALIGNED/.test(document.index?.error ?? ''));
    expect(document.index!.packets).toBe(0);
    // The capture put back whole, as long as the faulty one: read again from the start.
    writeFileSync(path, good);
    await until('the whole capture', () => document.index?.packets === 865 && document.index.error === undefined);
  });

  it('reads on incrementally, from the same worker, while the file only grows', async () => {
    const bytes = readFileSync(WHATSAPP);
    const path = join(dir, 'growing.pcapng');
    writeFileSync(path, bytes.subarray(0, 5000));
    const { document, changes } = openDocument(path);
    await until('the first reading', () => document.index !== undefined);
    const first = document.index!.packets;
    appendFileSync(path, bytes.subarray(5000));
    await until('the whole file', () => document.index?.packets === 865 && document.index.error === undefined);
    expect(first).toBeLessThan(865);
    // Only the first reading was from the start: no false "rewritten" on growth.
    expect(changes.filter((change) => change === 'indexed')).toHaveLength(1);
    expect(changes).toContain('grew');
  });
});
