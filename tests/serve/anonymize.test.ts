import { afterEach, describe, expect, it } from 'vitest';
import { IpAnonymizer } from '../../agent/src/anonymize/anonymizer';
import { servedDialogId, servedFolderName } from '../../agent/src/serve/address-redactor';
import { connectClient, httpGet, TestClient } from './support/clients';
import { makeDialog } from './support/memory-feed';
import { startTestServer, TEST_TOKEN, TestServer } from './support/server-fixture';

const KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);
const ORIGINALS = ['10.1.2.3', '192.0.2.77', '2001:db8:0:1::5', '2001:db8::1', '198.51.100.9'];

describe('anonymisation of everything served', () => {
  let fixture: TestServer | undefined;
  let client: TestClient | undefined;
  afterEach(async () => {
    client?.socket.terminate();
    await fixture?.server.close();
  });

  it('with anonymizeKey no original address appears in hello, snapshot, dialog, capture events or HTTP output', async () => {
    fixture = await startTestServer({ anonymizeKey: KEY });
    const { feed, base } = fixture;
    feed.addCapture('a.pcapng', { path: '/home/alice/acme-vpn/a.pcapng', error: "/home/alice/acme-vpn/a.pcapng: open '/home/alice/acme-vpn/../acme-vpn/a.pcapng' at offset 12/34: flow 10.1.2.3:5000 -> 192.0.2.77:443 truncated" });
    const v4 = makeDialog('a.pcapng', { client: { ip: '10.1.2.3', port: 5000 }, server: { ip: '192.0.2.77', port: 443 }, id: 'a.pcapng/tcp/10.1.2.3:5000/192.0.2.77:443/1/1' });
    const v6 = makeDialog('a.pcapng', { l4: 'udp', client: { ip: '2001:db8:0:1::5', port: 5000 }, server: { ip: '2001:db8::1', port: 3478 }, id: 'a.pcapng/udp/[2001:db8:0:1::5]:5000/[2001:db8::1]:3478/1/2' });
    const mapped = makeDialog('a.pcapng', { client: { ip: '::ffff:198.51.100.9', port: 1 }, server: { ip: '192.0.2.77', port: 443 } });
    const broken = makeDialog('a.pcapng', { client: { ip: 'not-an-address', port: 1 } });
    for (const dialog of [v4, v6, mapped, broken]) feed.putDialog(dialog);

    client = await connectClient(base, { token: TEST_TOKEN });
    client.send({ v: 1, type: 'subscribe', captures: ['a.pcapng'] });
    const snapshot = await client.next('snapshot');
    feed.putDialog({ ...v4, status: 'final' });
    feed.captureEvent('a.pcapng', 'error', 'cannot parse packet from 2001:db8::1 at byte 77');
    await client.next('dialog');
    await client.next('capture');
    await client.sync();

    const served = [
      ...client.messages.map((message) => JSON.stringify(message)),
      (await httpGet(base, `/labels?capture=a.pcapng&format=tsv&token=${TEST_TOKEN}`)).body,
      (await httpGet(base, `/labels?capture=a.pcapng&format=jsonl&token=${TEST_TOKEN}`)).body,
      (await httpGet(base, `/captures?token=${TEST_TOKEN}`)).body,
    ].join('\n');
    for (const original of ORIGINALS) expect(served, original).not.toContain(original);
    // The capture's folder (a user and a project name) stays on the agent's machine.
    expect(served).not.toContain('alice');
    expect(served).not.toContain('acme-vpn');
    expect(served).toContain('"path":"a.pcapng"');

    const anonymizer = new IpAnonymizer(KEY);
    expect(client.messages[0]).toMatchObject({ type: 'hello', anonymized: true });
    expect(snapshot.dialogs).toHaveLength(3); // the unanonymisable one is withheld
    expect(snapshot.dialogs[0]!.client.ip).toBe(anonymizer.anonymize('10.1.2.3'));
    // Ids are keyed digests of the real ones (not the real id with its addresses replaced).
    expect(snapshot.dialogs[0]!.id).toBe(servedDialogId(KEY, v4.id));
    expect(snapshot.dialogs[1]!.server.ip).toBe(anonymizer.anonymize('2001:db8::1'));
    expect(snapshot.dialogs[1]!.id).toBe(servedDialogId(KEY, v6.id));
    expect(snapshot.dialogs[2]!.client.ip).toBe(anonymizer.anonymize('::ffff:198.51.100.9'));
    expect(served).toContain(anonymizer.anonymize('192.0.2.77'));
    expect(served).not.toContain('not-an-address');
    expect(fixture.logLines.join('\n')).toContain('withheld');
    // Ports, times and labels are untouched.
    expect(snapshot.dialogs[0]!.client.port).toBe(5000);
    expect(snapshot.dialogs[0]!.usage).toBe(v4.usage);
  });

  it('serves a capture named after an address under its anonymised name, and subscriptions use that name', async () => {
    fixture = await startTestServer({ anonymizeKey: KEY, limits: { statsIntervalMs: 50 } });
    const { feed, base } = fixture;
    const anonymizer = new IpAnonymizer(KEY);
    const original = '10.1.2.3.pcapng';
    const servedName = `${anonymizer.anonymize('10.1.2.3')}.pcapng`;
    feed.addCapture(original, { path: `/srv/dumps/${original}` });
    feed.currentStats = { packetsPerSecond: 10, packets: 100, dialogs: 1, captures: [{ name: original, lagBytes: 0, lagMs: 0 }] };
    const dialog = makeDialog(original, { client: { ip: '192.0.2.77', port: 5000 }, id: `${original}/tcp/192.0.2.77:5000/198.51.100.9:443/1/1` });
    feed.putDialog(dialog);

    client = await connectClient(base, { token: TEST_TOKEN });
    const hello = await client.next('hello');
    expect(hello.captures.map((c) => [c.name, c.path])).toEqual([[servedName, servedName]]);
    // The original name is not confirmed: it is as unknown as any other.
    client.send({ v: 1, type: 'subscribe', captures: [original] });
    expect((await client.next('error')).code).toBe('UNKNOWN_CAPTURE');
    const before = client.messages.length;
    client.send({ v: 1, type: 'subscribe', captures: [servedName] });
    const snapshot = await client.next('snapshot', before);
    expect(snapshot.captures).toEqual([servedName]);
    expect(snapshot.dialogs.map((d) => [d.capture, d.client.ip])).toEqual([[servedName, anonymizer.anonymize('192.0.2.77')]]);
    // Live dialogs reach the subscription made with the served name.
    feed.putDialog({ ...dialog, status: 'final' });
    expect((await client.next('dialog')).dialog.capture).toBe(servedName);
    // Capture lag in stats carries the served name too (the panel matches lag to captures by it).
    expect((await client.next('stats', before)).captures).toEqual([{ name: servedName, lagBytes: 0, lagMs: 0 }]);
    await client.sync();

    const labels = await httpGet(base, `/labels?capture=${encodeURIComponent(servedName)}&format=jsonl&token=${TEST_TOKEN}`);
    expect(labels.status).toBe(200);
    expect(labels.body.trim().split('\n')).toHaveLength(1);
    expect((await httpGet(base, `/labels?capture=${encodeURIComponent(original)}&token=${TEST_TOKEN}`)).status).toBe(404);
    // Left out: the replies to the subscription by the original name, which echo the client's own words.
    const served = [hello, ...client.messages.slice(before)].map((message) => JSON.stringify(message)).concat(labels.body, (await httpGet(base, `/captures?token=${TEST_TOKEN}`)).body).join('\n');
    expect(served).not.toContain('10.1.2.3');
    expect(served).not.toContain('dumps');
  });

  it('serves captures whose names spell one address differently under names of their own', async () => {
    fixture = await startTestServer({ anonymizeKey: KEY });
    const { feed, base } = fixture;
    const anonymizer = new IpAnonymizer(KEY);
    const image = `${anonymizer.anonymize('2001:db8::10')}.pcap`;
    // Found in review: both were served as the image, and /labels of it gave the first one's dialogs only.
    const first = '2001:db8::10.pcap';
    const second = '2001:DB8:0:0:0:0:0:10.pcap';
    feed.addCapture(first);
    feed.addCapture(second);
    const a = makeDialog(first, { client: { ip: '10.1.2.3', port: 5001 } });
    const b = makeDialog(second, { client: { ip: '10.1.2.3', port: 5002 } });
    feed.putDialog(a);
    feed.putDialog(b);

    client = await connectClient(base, { token: TEST_TOKEN });
    const hello = await client.next('hello');
    expect(hello.captures.map((c) => c.name)).toEqual([image, `${image}#2`]);
    const portsAt = async (name: string): Promise<number[]> => {
      const labels = await httpGet(base, `/labels?capture=${encodeURIComponent(name)}&format=jsonl&token=${TEST_TOKEN}`);
      expect(labels.status).toBe(200);
      return labels.body.trim().split('\n').map((line) => (JSON.parse(line) as { client: { port: number } }).client.port);
    };
    expect(await portsAt(image)).toEqual([5001]);
    expect(await portsAt(`${image}#2`)).toEqual([5002]);
    // Subscriptions, dialog events and /captures use the same names.
    client.send({ v: 1, type: 'subscribe', captures: [`${image}#2`] });
    const snapshot = await client.next('snapshot');
    expect(snapshot.dialogs.map((d) => [d.capture, d.client.port])).toEqual([[`${image}#2`, 5002]]);
    feed.putDialog({ ...b, status: 'provisional' });
    expect((await client.next('dialog')).dialog.capture).toBe(`${image}#2`);
    const captures = JSON.parse((await httpGet(base, `/captures?token=${TEST_TOKEN}`)).body) as { name: string }[];
    expect(captures.map((c) => c.name)).toEqual([image, `${image}#2`]);
  });

  it('serves watched folders under a keyed name, and cuts folders and addresses from folder events and capture warnings', async () => {
    fixture = await startTestServer({ anonymizeKey: KEY });
    const { feed, base } = fixture;
    feed.setFolder('/home/alice/caps-10.1.2.3', 'watching');
    feed.addCapture('a.pcapng', {
      path: '/home/alice/caps-10.1.2.3/a.pcapng',
      state: 'idle',
      warning: '/home/alice/caps-10.1.2.3/a.pcapng: byte offset 99980: input ends inside a block: 20 of 248 bytes present [CAPTURE_TRUNCATED]; the file has not grown since 2024-05-01T12:00:00.250Z: waiting for the rest',
    });
    client = await connectClient(base, { token: TEST_TOKEN });
    feed.setFolder('/home/alice/caps-10.1.2.3', 'missing', '/home/alice/caps-10.1.2.3: the watched folder is gone (deleted, moved or unmounted); watching for it to come back');
    const event = await client.next('folder');
    await client.sync();

    const image = servedFolderName(KEY, '/home/alice/caps-10.1.2.3');
    expect(image).toMatch(/^folder-[0-9a-f]{12}$/);
    const hello = client.messages[0]!;
    if (hello.type !== 'hello') throw new Error('first message is not hello');
    expect(hello.folders).toEqual([{ path: image, state: 'watching' }]);
    expect(hello.captures[0]!.warning).toBe('a.pcapng: byte offset 99980: input ends inside a block: 20 of 248 bytes present [CAPTURE_TRUNCATED]; the file has not grown since 2024-05-01T12:00:00.250Z: waiting for the rest');
    expect(event).toEqual({ v: 1, type: 'folder', event: 'missing', folder: { path: image, state: 'missing' }, message: `${image}: the watched folder is gone (deleted, moved or unmounted); watching for it to come back` });
    const served = [...client.messages.map((message) => JSON.stringify(message)), (await httpGet(base, `/captures?token=${TEST_TOKEN}`)).body, (await httpGet(base, '/health')).body].join('\n');
    expect(served).not.toContain('10.1.2.3');
    expect(served).not.toContain('alice');
    expect(served).not.toContain('caps-');
  });

  it('without a key addresses are served as they are', async () => {
    fixture = await startTestServer();
    fixture.feed.addCapture('a.pcapng');
    fixture.feed.putDialog(makeDialog('a.pcapng', { client: { ip: '10.1.2.3', port: 5000 } }));
    const tsv = await httpGet(fixture.base, `/labels?capture=a.pcapng&token=${TEST_TOKEN}`);
    expect(tsv.body).toContain('10.1.2.3');
  });
});
