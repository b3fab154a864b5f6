// Leaks of an anonymising server found in review: client-chosen text echoed through the
// anonymiser (a Crypto-PAn oracle), IPv6 addresses followed by a colon left as they are, dialog
// ids that are an unkeyed hash of the 5-tuple, and folder names in `capture` event messages.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { IpAnonymizer } from '../../agent/src/anonymize/anonymizer';
import { createAddressRedactor, servedDialogId } from '../../agent/src/serve/address-redactor';
import { connectClient, httpGet, TestClient } from './support/clients';
import { makeDialog } from './support/memory-feed';
import { startTestServer, TEST_TOKEN, TestServer } from './support/server-fixture';

const KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 53 + 5) & 0xff);
const anonymizer = new IpAnonymizer(KEY);

describe('an anonymising server gives clients no oracle and no way back to addresses', () => {
  let fixture: TestServer | undefined;
  let client: TestClient | undefined;
  afterEach(async () => {
    client?.socket.terminate();
    await fixture?.server.close();
  });

  it('quotes subscribed names and watch paths as sent, never anonymised', async () => {
    fixture = await startTestServer({ anonymizeKey: KEY });
    fixture.feed.watchError = 'ENOENT: no such file or directory';
    client = await connectClient(fixture.base, { token: TEST_TOKEN });
    const probes = ['q_10.1.2.0_', 'q_128.0.0.0_', 'q_2001:db8::_', '[fe80::1]:99'];
    client.send({ v: 1, type: 'subscribe', captures: probes });
    const unknown = await client.next('error');
    expect(unknown.code).toBe('UNKNOWN_CAPTURE');
    for (const probe of probes) expect(unknown.message).toContain(JSON.stringify(probe));
    for (const address of ['10.1.2.0', '128.0.0.0', '2001:db8::', 'fe80::1']) expect(unknown.message).not.toContain(anonymizer.anonymize(address));

    const mark = client.messages.length;
    client.send({ v: 1, type: 'watch', path: '/probe/10.9.8.7/2001:db8::42' });
    const failed = await client.next('error', mark);
    expect(failed.code).toBe('WATCH_FAILED');
    expect(failed.message).toContain('/probe/10.9.8.7/2001:db8::42');
    expect(failed.message).not.toContain(anonymizer.anonymize('10.9.8.7'));
  });

  it('serves a keyed dialog id, the same in snapshots, dialog messages and /labels, that the unkeyed hash cannot find', async () => {
    fixture = await startTestServer({ anonymizeKey: KEY });
    const { feed, base } = fixture;
    feed.addCapture('c.pcapng', { path: '/caps/c.pcapng' });
    const record = { l4: 'tcp' as const, client: { ip: '10.0.0.2', port: 40001 }, server: { ip: '157.240.1.53', port: 443 }, startUs: 1_705_312_800_103_353 };
    // The agent's real id (dialog-identity.ts): anyone can recompute it for guessed addresses.
    const realId = createHash('sha256')
      .update(['c.pcapng', record.l4, record.client.ip, record.client.port, record.server.ip, record.server.port, record.startUs].join('\u0000'))
      .digest('hex')
      .slice(0, 20);
    const dialog = makeDialog('c.pcapng', { ...record, id: realId });
    feed.putDialog(dialog);

    client = await connectClient(base, { token: TEST_TOKEN });
    client.send({ v: 1, type: 'subscribe', captures: '*' });
    const snapshot = await client.next('snapshot');
    feed.putDialog({ ...dialog, status: 'final' });
    const update = await client.next('dialog');
    const jsonl = (await httpGet(base, `/labels?capture=c.pcapng&format=jsonl&token=${TEST_TOKEN}`)).body;

    const served = snapshot.dialogs[0]!.id;
    expect(served).toMatch(/^[0-9a-f]{20}$/);
    expect(served).not.toBe(realId);
    expect(served).toBe(servedDialogId(KEY, realId));
    expect(update.dialog.id).toBe(served);
    expect((JSON.parse(jsonl.trim()) as { id: string }).id).toBe(served);
    // Nothing served contains the brute-forceable id.
    expect(JSON.stringify(client.messages) + jsonl).not.toContain(realId);
  });

  it('keeps the real id on a server that does not anonymise', async () => {
    fixture = await startTestServer();
    fixture.feed.addCapture('c.pcapng', { path: '/caps/c.pcapng' });
    const dialog = makeDialog('c.pcapng', { id: '0123456789abcdef0123' });
    fixture.feed.putDialog(dialog);
    client = await connectClient(fixture.base, { token: TEST_TOKEN });
    client.send({ v: 1, type: 'subscribe', captures: '*' });
    expect((await client.next('snapshot')).dialogs[0]!.id).toBe(dialog.id);
  });

  it('cuts the folder out of capture event messages', async () => {
    fixture = await startTestServer({ anonymizeKey: KEY });
    fixture.feed.addCapture('r.pcapng', { path: '/home/bob/secret-customer-ACME/r.pcapng' });
    client = await connectClient(fixture.base, { token: TEST_TOKEN });
    await client.next('hello');
    fixture.feed.captureEvent('r.pcapng', 'updated', '/home/bob/secret-customer-ACME/r.pcapng: replaced by a new file; reading it again from the start (peer 10.3.3.3)');
    const event = await client.next('capture');
    expect(event.message).toContain('r.pcapng: replaced by a new file');
    expect(event.message).not.toContain('secret-customer-ACME');
    expect(event.message).not.toContain('bob');
    expect(event.message).not.toContain('10.3.3.3');
  });
});

describe('address scrubbing finds IPv6 addresses next to colons and words', () => {
  const redactor = createAddressRedactor(anonymizer, KEY, () => undefined);
  it.each([
    ['fe80::1: timeout', 'fe80::1'],
    ['peer 2001:db8::1: closed', '2001:db8::1'],
    ['2001:db8:0:1::5:', '2001:db8:0:1::5'],
    ['host:2001:db8::7 down', '2001:db8::7'],
    ['at ::ffff:10.0.0.1:443', '::ffff:10.0.0.1'],
  ])('%s', (text, address) => {
    const out = redactor.text(text);
    expect(out).toContain(anonymizer.anonymize(address));
    expect(out).not.toContain(address);
  });
});
