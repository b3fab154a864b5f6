// A real `cumma watch` that anonymises, against real WebSocket clients: what it prints with
// --anonymize KEY (or --anonymize-key-file FILE), what an agent served "beyond loopback" echoes of
// client text, and what its capture events say about folders.
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
const { running, roots, clients } = cleanUpAfterEach();

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

  it('--anonymize-key-file FILE: the key is in no command line, and what is printed and served is what --anonymize KEY gives', async () => {
    const { root, folder } = scratch('captures');
    const name = '192.168.7.89.pcapng';
    copyFileSync(join(SAMPLES, 'whatsapp-chat.pcapng'), join(folder, name));
    const keyFile = join(root, 'cumma.key');
    writeFileSync(keyFile, `${KEY_HEX}\n`, { mode: 0o600 });
    const agent = await startAgent(folder, join(root, 'config'), ['--anonymize-key-file', keyFile]);
    running.push(agent);
    // What `ps` shows other users: the agent's command line.
    const commandLine = `/proc/${agent.child.pid}/cmdline`;
    if (existsSync(commandLine)) {
      const argv = readFileSync(commandLine, 'utf8').split('\0');
      expect(argv).toContain(keyFile);
      expect(argv.join(' ')).not.toContain(KEY_HEX);
    }
    const client = await connectClient(agent.httpUrl, { token: agent.token });
    clients.push(client);
    const hello = await client.next('hello');
    expect(hello.anonymized).toBe(true);
    const servedName = `${new IpAnonymizer(KEY).anonymize('192.168.7.89')}.pcapng`;
    expect(hello.captures.map((c) => c.name)).toEqual([servedName]);
    await waitFor(() => agent.published().length > 0, 30_000, 'a dialog on stdout');
    expect(agent.published()[0]!.capture).toBe(servedName);
    expect(agent.stderr()).not.toContain('192.168.7.89');
  }, 60_000);

  it('--anonymize KEY: folders anonymised in every line, from start-up on; its own address and its clients\' printed as they are', async () => {
    const { root, folder } = scratch('w-10.1.2.3');
    const missing = join(root, 'missing-10.1.2.3');
    const anonymizer = new IpAnonymizer(KEY);
    const image = anonymizer.anonymize('10.1.2.3');
    // CUMMA_DEBUG=1: the info log (serving on …, clients connecting) is printed too.
    const agent = await startAgent(folder, join(root, 'config'), [`${folder}/`, '--anonymize', KEY_HEX], { CUMMA_DEBUG: '1' });
    running.push(agent);
    const port = new URL(agent.httpUrl).port;
    const client = await connectClient(agent.httpUrl, { token: agent.token });
    clients.push(client);
    await client.next('hello');
    client.send({ v: 1, type: 'watch', path: missing });
    expect((await client.next('error')).code).toBe('WATCH_FAILED');
    await waitFor(() => agent.stderr().includes('cannot watch'), 10_000, 'the failed watch on stderr');

    const stderr = agent.stderr();
    // Found in review: start-up lines gave the folder's real address, later lines its image.
    expect(stderr).toContain(`cumma watch: model default@1; watching ${join(root, `w-${image}`)}\n`);
    expect(stderr).toContain(`cumma watch: note: ${join(root, `w-${image}`)}/ is ${join(root, `w-${image}`)} again: watched once\n`);
    // Found in review: the agent's own URL and its clients' addresses were "anonymised" into wrong ones.
    expect(stderr).toContain(`cumma watch: info: serving on http://127.0.0.1:${port}/ (WebSocket ws://127.0.0.1:${port}/), addresses anonymised\n`);
    expect(stderr).toMatch(/cumma watch: info: client 127\.0\.0\.1:\d+ connected/);
    expect(stderr).toMatch(new RegExp(`cumma watch: warn: client 127\\.0\\.0\\.1:\\d+: cannot watch ${escape(join(root, `missing-${image}`))}: `));
    expect(stderr).not.toContain(anonymizer.anonymize('127.0.0.1'));
    expect(stderr).not.toContain('10.1.2.3');
  }, 60_000);

  it('--anonymize KEY: a folder that cannot be watched at start-up is named anonymised', async () => {
    const { root } = scratch('unused');
    const missing = join(root, 'missing-10.1.2.3');
    const failed = await startAgent(missing, join(root, 'config'), ['--anonymize', KEY_HEX]).then(
      () => expect.unreachable('the agent started'),
      (error: Error) => error.message,
    );
    expect(failed).toContain(`cumma watch: cannot watch ${join(root, `missing-${new IpAnonymizer(KEY).anonymize('10.1.2.3')}`)}: `);
    expect(failed.slice(failed.indexOf('stderr:'))).not.toContain('10.1.2.3');
  }, 30_000);

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

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
