// A small sparse file whose one block claims hundreds of MiB must not make the live agent buffer
// (and keep) that much: it is refused as corrupt at the block, and a reader's buffer shrinks
// back once a large (but legal) block has gone.
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeSync } from 'node:fs';
import { ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ByteWindow } from '../../agent/src/capture/byte-window';
import { LIVE_MAX_BLOCK_LENGTH } from '../../agent/src/live/live-capture';
import { connectClient } from '../serve/support/clients';
import { startAgent } from '../support/agent-process';
import { cleanUpAfterEach } from '../support/cleanup';

const { running, roots } = cleanUpAfterEach();

/** SHB + IDB (Ethernet) + the header of an EPB claiming `claimed` bytes; the file is made `claimed` long, sparse. */
function writeHugeBlockCapture(path: string, claimed: number): number {
  const shb = Buffer.alloc(28);
  shb.writeUInt32LE(0x0a0d0d0a, 0);
  shb.writeUInt32LE(28, 4);
  shb.writeUInt32LE(0x1a2b3c4d, 8);
  shb.writeUInt16LE(1, 12);
  shb.writeUInt16LE(0, 14);
  shb.writeBigInt64LE(-1n, 16);
  shb.writeUInt32LE(28, 24);
  const idb = Buffer.alloc(20);
  idb.writeUInt32LE(1, 0);
  idb.writeUInt32LE(20, 4);
  idb.writeUInt16LE(1, 8);
  idb.writeUInt32LE(0, 12);
  idb.writeUInt32LE(20, 16);
  const epb = Buffer.alloc(28);
  epb.writeUInt32LE(6, 0);
  epb.writeUInt32LE(claimed, 4);
  epb.writeUInt32LE(claimed - 32, 20);
  epb.writeUInt32LE(claimed - 32, 24);
  const fd = openSync(path, 'w');
  writeSync(fd, Buffer.concat([shb, idb, epb]));
  ftruncateSync(fd, claimed + 48);
  closeSync(fd);
  return shb.length + idb.length;
}

function residentMegabytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

describe('oversize blocks in watched captures', () => {
  it('are reported as CAPTURE_BLOCK_TOO_LONG with file and offset, without buffering them', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cumma-bigblock-'));
    roots.push(root);
    const folder = join(root, 'captures');
    mkdirSync(folder);
    const agent = await startAgent(folder, join(root, 'config'), ['--format', 'none', '--no-sidecar']);
    running.push(agent);
    const client = await connectClient(agent.httpUrl, { token: agent.token });
    await client.next('hello');
    const before = residentMegabytes(agent.child.pid!);
    const offsets: number[] = [];
    for (let i = 0; i < 4; i++) offsets.push(writeHugeBlockCapture(join(folder, `big${i}.pcapng`), 255 * 1024 * 1024 - 4 * i));
    await client.until('four capture errors', (messages) => messages.filter((m) => m.type === 'capture' && m.event === 'error').length >= 4, 30_000);
    for (const event of client.of('capture').filter((m) => m.event === 'error')) {
      expect(event.message).toMatch(new RegExp(`big\\d\\.pcapng: byte offset ${offsets[0]}: block length \\d+ exceeds the ${LIVE_MAX_BLOCK_LENGTH}-byte limit \\[CAPTURE_BLOCK_TOO_LONG\\]`));
    }
    expect(residentMegabytes(agent.child.pid!)).toBeLessThan(before + 100);
    client.socket.close();
  }, 60_000);

  it('a byte window shrinks back after holding a large block', () => {
    const window = new ByteWindow(0, 1024);
    const big = 1 << 20;
    window.reserve(big);
    window.commit(big);
    expect(window.bytes.length).toBeGreaterThanOrEqual(big);
    window.consume(big - 10); // ten bytes of the next block remain
    const at = window.reserve(100);
    expect(window.bytes.length).toBe(1024);
    expect(window.offset).toBe(big - 10);
    expect(at).toBe(10);
    expect(window.absolute(0)).toBe(big - 10);
  });
});
