// What a real `cumma watch` tells clients and its terminal when a watched capture cannot be
// read: a capture replaced by a folder, or a FIFO named like one, gets a coded error with file and
// offset (not a bare "EISDIR …"), and packets of a link type Cumma does not decode are reported
// once per capture.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureInfo } from '../../agent/src/live/label-feed';
import { connectClient } from '../serve/support/clients';
import { AgentProcess, startAgent, waitFor } from '../support/agent-process';
import { cleanUpAfterEach } from '../support/cleanup';

const SAMPLES = join(__dirname, '..', '..', 'samples');
const { running, roots } = cleanUpAfterEach();

async function agentOnEmptyFolder(): Promise<{ agent: AgentProcess; folder: string }> {
  const root = mkdtempSync(join(tmpdir(), 'cumma-live-errors-'));
  roots.push(root);
  const folder = join(root, 'captures');
  mkdirSync(folder);
  const agent = await startAgent(folder, join(root, 'config'), ['--format', 'none']);
  running.push(agent);
  return { agent, folder };
}

/** A copy of a little-endian pcapng with every interface's link type set to `linkType`. */
function withLinkType(source: Buffer, linkType: number): Buffer {
  const bytes = Buffer.from(source);
  for (let at = 0; at + 8 <= bytes.length; ) {
    const type = bytes.readUInt32LE(at);
    const length = bytes.readUInt32LE(at + 4);
    if (type === 1) bytes.writeUInt16LE(linkType, at + 8);
    at += length;
  }
  return bytes;
}

/** The first pcapng block starting at or after `from`: its offset and length. */
function blockAtOrAfter(bytes: Buffer, from: number): { offset: number; length: number } {
  for (let at = 0; at + 8 <= bytes.length; at += bytes.readUInt32LE(at + 4)) {
    if (at >= from) return { offset: at, length: bytes.readUInt32LE(at + 4) };
  }
  throw new Error(`no block after byte ${from}`);
}

describe('errors of watched captures', () => {
  it('serves as bytesRead of a capture in error the offset of the error, not the bytes fetched', async () => {
    const { agent, folder } = await agentOnEmptyFolder();
    const client = await connectClient(agent.httpUrl, { token: agent.token });
    // A block in the middle whose length is no multiple of 4: the reader stops at its start, with
    // the whole file (under 1 MiB) fetched by then.
    const bytes = readFileSync(join(SAMPLES, 'whatsapp-chat.pcapng'));
    const block = blockAtOrAfter(bytes, 300_000);
    bytes.writeUInt32LE(block.length + 1, block.offset + 4);
    const path = join(folder, 'corrupt.pcapng');
    // Renamed into place whole: read while half written, the file's size at the error would be less.
    const staged = join(folder, '..', 'corrupt.staged');
    writeFileSync(staged, bytes);
    renameSync(staged, path);
    await client.until('the error', (messages) => messages.some((m) => m.type === 'capture' && m.event === 'error'), 20_000);
    const error = client.of('capture').find((m) => m.event === 'error')!;
    expect(error.message).toBe(`${path}: byte offset ${block.offset}: block length ${block.length + 1} is not a multiple of 4 [CAPTURE_BLOCK_UNALIGNED]`);
    expect(error.capture).toMatchObject({ state: 'error', sizeBytes: bytes.length, bytesRead: block.offset });
    const served = (await (await fetch(`${agent.httpUrl}captures`, { headers: { Authorization: `Bearer ${agent.token}` } })).json()) as CaptureInfo[];
    expect(served.find((capture) => capture.name === 'corrupt.pcapng')).toMatchObject({ state: 'error', sizeBytes: bytes.length, bytesRead: block.offset, error: error.message });
    client.socket.close();
  }, 60_000);

  it('reports a capture replaced by a folder with a code and an offset', async () => {
    const { agent, folder } = await agentOnEmptyFolder();
    const client = await connectClient(agent.httpUrl, { token: agent.token });
    const path = join(folder, 'chat.pcapng');
    copyFileSync(join(SAMPLES, 'whatsapp-chat.pcapng'), path);
    await client.until('the capture read', (messages) => messages.some((m) => m.type === 'stats' && m.dialogs > 0 && m.captures.every((c) => c.lagBytes === 0)), 20_000);
    rmSync(path);
    mkdirSync(path);
    await client.until('an error or a removal', (messages) => messages.some((m) => m.type === 'capture' && (m.event === 'error' || m.event === 'removed')), 20_000);
    const events = client.of('capture').filter((m) => m.event === 'error');
    // The watcher may see the folder as the file removed (nothing to report) or as the file
    // changed, in which case the error must be a coded one.
    for (const event of events) {
      expect(event.message).toMatch(/chat\.pcapng: byte offset \d+: no longer a regular file \(now a folder\) \[CAPTURE_IO\]/);
      expect(event.message).not.toContain('EISDIR');
    }
    expect(agent.stderr()).not.toContain('EISDIR');
    client.socket.close();
  }, 60_000);

  it('says what a FIFO named like a capture is, rather than that it is no longer a regular file', async () => {
    const { agent, folder } = await agentOnEmptyFolder();
    const client = await connectClient(agent.httpUrl, { token: agent.token });
    const path = join(folder, 'evil.pcapng');
    const made = spawnSync('mkfifo', [path]);
    expect(made.status, String(made.stderr)).toBe(0);
    await client.until('the error', (messages) => messages.some((m) => m.type === 'capture' && m.event === 'error'), 20_000);
    const error = client.of('capture').find((m) => m.event === 'error')!;
    const text = `${path}: byte offset 0: it is a FIFO, not a regular file: not read [CAPTURE_IO]`;
    expect(error.message).toBe(text);
    // The terminal line may reach this process after the client's message: wait for it.
    await waitFor(() => agent.stderr().includes(text), 5000, 'the terminal line');
    client.socket.close();
  }, 60_000);

  it('reports packets of an unsupported link type once, to clients and on the terminal', async () => {
    const { agent, folder } = await agentOnEmptyFolder();
    const client = await connectClient(agent.httpUrl, { token: agent.token });
    writeFileSync(join(folder, 'usb.pcapng'), withLinkType(readFileSync(join(SAMPLES, 'whatsapp-chat.pcapng')), 147));
    await client.until('the capture read', (messages) => messages.some((m) => m.type === 'stats' && m.packets > 0 && m.captures.every((c) => c.lagBytes === 0)), 20_000);
    await waitFor(() => agent.stderr().includes('unsupported link type 147'), 5000, 'the terminal line');
    const reports = client.of('capture').filter((m) => (m.message ?? '').includes('unsupported link type 147'));
    expect(reports).toHaveLength(1);
    expect(reports[0]!.event).toBe('updated');
    expect(reports[0]!.message).toMatch(/usb\.pcapng: packets with .* framing are not decoded \(unsupported link type 147\)/);
    expect(agent.stderr().match(/unsupported link type 147/g)).toHaveLength(1);
    client.socket.close();
  }, 60_000);
});
