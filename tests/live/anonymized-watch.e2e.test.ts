// A real `cumma watch` that anonymises, against real WebSocket clients: what it prints with
// --anonymize KEY, what an agent served "beyond loopback" echoes of client text, and what its
// capture events say about folders.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IpAnonymizer } from '../../agent/src/anonymize/anonymizer';
import { servedDialogId } from '../../agent/src/serve/address-redactor';
import { connectClient } from '../serve/support/clients';
import { RecordingClient, classifyFile, expectedDialogs, startAgent, waitFor } from '../support/agent-process';
import { cleanUpAfterEach } from '../support/cleanup';

const SAMPLES = join(__dirname, '..', '..', 'samples');
const KEY_HEX = '3c1d7a52'.repeat(8);
const KEY = Uint8Array.from(Buffer.from(KEY_HEX, 'hex'));
const { running, roots } = cleanUpAfterEach();

function scratch(folderName: string): { root: string; folder: string } {
  const root = mkdtempSync(join(tmpdir(), 'cumma-anon-'));
  roots.push(root);
  const folder = join(root, folderName);
  mkdirSync(folder);
  return { root, folder };
}

/** A pcapng whose first block after the section header has a length that is not a multiple of 4. */
function corruptCapture(): Buffer {
  const sample = readFileSync(join(SAMPLES, 'signal-streaming.pcapng'));
  const shbLength = sample.readUInt32LE(4);
  const bad = Buffer.alloc(16);
  bad.writeUInt32LE(6, 0);
  bad.writeUInt32LE(13, 4);
  return Buffer.concat([sample.subarray(0, shbLength), bad]);
}

describe('cumma watch with anonymisation', () => {
  it('--anonymize KEY anonymises the jsonl rows and the capture names on stderr, not the sidecar', async () => {
    const { root, folder } = scratch('captures');
    const name = '192.168.7.89.pcapng';
    copyFileSync(join(SAMPLES, 'whatsapp-chat.pcapng'), join(folder, name));
    const agent = await startAgent(folder, join(root, 'config'), ['--anonymize', KEY_HEX]);
    running.push(agent);
    const expected = expectedDialogs(join(folder, name), name);
    const client = await RecordingClient.connect(agent);
    await waitFor(() => agent.published().filter((d) => d.status === 'final').length >= expected.size, 30_000, 'every dialog on stdout');
    await waitFor(() => [...client.latest().values()].filter((d) => d.status === 'final').length >= expected.size, 10_000, 'every dialog at the client');
    expect(await agent.stop()).toBe(0);

    const anonymizer = new IpAnonymizer(KEY);
    const originals = new Set(classifyFile(join(folder, name)).flatMap((d) => [d.client.ip, d.server.ip]));
    originals.add('192.168.7.89');
    const stdout = agent.published();
    const printed = JSON.stringify(stdout) + agent.stderr();
    for (const address of originals) expect(printed, address).not.toContain(address);
    const servedName = `${anonymizer.anonymize('192.168.7.89')}.pcapng`;
    expect(agent.stderr()).toContain(servedName);
    // The rows are what clients are served: the same anonymised endpoints and keyed ids.
    const served = client.latest();
    for (const dialog of stdout) {
      const real = [...expected.values()].find((e) => e.startUs === dialog.startUs && e.client.port === dialog.client.port && e.server.port === dialog.server.port);
      expect(real).toBeDefined();
      expect(dialog.client.ip).toBe(anonymizer.anonymize(real!.client.ip));
      expect(dialog.capture).toBe(servedName);
      expect(dialog.id).toBe(servedDialogId(KEY, real!.id));
      expect(served.get(dialog.id)?.client.ip).toBe(dialog.client.ip);
    }
    // The sidecar is for Wireshark on this machine: real addresses.
    const sidecar = readFileSync(join(folder, `${name}.cumma.tsv`), 'utf8');
    expect([...originals].some((address) => sidecar.includes(address))).toBe(true);
    client.close();
  }, 60_000);

  it('beyond loopback: client text is echoed as sent, and capture events name no folder', async () => {
    const { root, folder } = scratch('secret-customer-ACME');
    const agent = await startAgent(folder, join(root, 'config'), ['--host', '::ffff:127.0.0.1']);
    running.push(agent);
    const client = await connectClient(agent.httpUrl, { token: agent.token });
    expect((await client.next('hello')).anonymized).toBe(true);
    client.send({ v: 1, type: 'subscribe', captures: ['q_10.1.2.0_', 'q_2001:db8::_'] });
    const unknown = await client.next('error');
    expect(unknown.code).toBe('UNKNOWN_CAPTURE');
    expect(unknown.message).toContain('"q_10.1.2.0_", "q_2001:db8::_"');

    writeFileSync(join(folder, 'bad.pcapng'), corruptCapture());
    await client.until('an error event', (messages) => messages.some((m) => m.type === 'capture' && m.event === 'error'), 20_000);
    const events = client.of('capture');
    expect(events.some((m) => m.event === 'error' && (m.message ?? '').includes('bad.pcapng'))).toBe(true);
    expect(JSON.stringify(client.messages)).not.toContain('secret-customer-ACME');
    client.socket.close();
  }, 60_000);

  it('refuses a stored key file that group or others can access, naming the file', async () => {
    const { root, folder } = scratch('captures');
    const config = join(root, 'config');
    mkdirSync(config, { mode: 0o700 });
    const keyFile = join(config, 'anonymize.key');
    writeFileSync(keyFile, `${KEY_HEX}\n`);
    chmodSync(keyFile, 0o666);
    await expect(startAgent(folder, config, ['--host', '::ffff:127.0.0.1'])).rejects.toThrow(/anonymisation key file .*anonymize\.key is accessible to group or others \(mode 666\)/);
    chmodSync(keyFile, 0o600);
    writeFileSync(keyFile, 'short\n');
    const refused = startAgent(folder, config, ['--host', '::ffff:127.0.0.1']);
    await expect(refused).rejects.toThrow(/anonymisation key file .*anonymize\.key does not hold a usable key/);
    await expect(refused).rejects.not.toThrow(/--anonymize/);
  }, 30_000);
});
