// A client repeating `subscribe "*"` must not make the agent serialise every dialog each time:
// it gets at most one snapshot per snapshotIntervalMs (the latest subscription's), and a
// bystander's pings stay prompt.
import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, TestClient } from './support/clients';
import { makeDialog } from './support/memory-feed';
import { startTestServer, TEST_TOKEN, TestServer } from './support/server-fixture';

describe('snapshot rate per client', () => {
  let fixture: TestServer | undefined;
  const clients: TestClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.socket.terminate();
    await fixture?.server.close();
  });

  it('coalesces repeated subscribes to one snapshot a second and keeps the others served', async () => {
    fixture = await startTestServer();
    const { feed, base } = fixture;
    feed.addCapture('a.pcapng');
    feed.addCapture('b.pcapng');
    for (let i = 0; i < 20_000; i++) feed.putDialog(makeDialog(i % 2 === 0 ? 'a.pcapng' : 'b.pcapng'));

    const bystander = await connectClient(base, { token: TEST_TOKEN });
    const spammer = await connectClient(base, { token: TEST_TOKEN });
    clients.push(bystander, spammer);
    const rtts: number[] = [];
    bystander.socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; id?: number };
      if (message.type === 'pong' && typeof message.id === 'number') rtts.push(performance.now() - message.id);
    });
    const pinger = setInterval(() => bystander.send({ v: 1, type: 'ping', id: performance.now() }), 50);
    const spam = setInterval(() => spammer.send({ v: 1, type: 'subscribe', captures: '*' }), 1000 / 45);
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    clearInterval(spam);
    // The last subscription wins: its snapshot comes, at most a second later.
    spammer.send({ v: 1, type: 'subscribe', captures: ['b.pcapng'] });
    await spammer.until('the last snapshot', (messages) => messages.some((m) => m.type === 'snapshot' && m.captures.length === 1), 5000);
    const elapsed = performance.now() - started;
    clearInterval(pinger);

    const snapshots = spammer.of('snapshot');
    expect(snapshots.length).toBeLessThanOrEqual(Math.ceil(elapsed / 1000) + 1);
    expect(snapshots.at(-1)!.captures).toEqual(['b.pcapng']);
    expect(snapshots.at(-1)!.dialogs).toHaveLength(10_000);
    expect(snapshots[0]!.dialogs).toHaveLength(20_000);
    rtts.sort((x, y) => x - y);
    expect(rtts.length).toBeGreaterThan(20);
    expect(rtts[Math.floor(rtts.length * 0.95)]!).toBeLessThan(500);
  }, 30_000);

  it('answers a first subscribe at once and a change of subscription with a fresh snapshot', async () => {
    fixture = await startTestServer({ limits: { snapshotIntervalMs: 300 } });
    const { feed, base } = fixture;
    feed.addCapture('a.pcapng');
    const client = await connectClient(base, { token: TEST_TOKEN });
    clients.push(client);
    const t0 = performance.now();
    client.send({ v: 1, type: 'subscribe', captures: '*' });
    expect((await client.next('snapshot')).dialogs).toHaveLength(0);
    expect(performance.now() - t0).toBeLessThan(250);
    feed.putDialog(makeDialog('a.pcapng'));
    await client.next('dialog');
    const mark = client.messages.length;
    client.send({ v: 1, type: 'subscribe', captures: '*' });
    // Not served from a stale cache: the dialog added after the first snapshot is in it.
    expect((await client.next('snapshot', mark)).dialogs).toHaveLength(1);
  });
});
