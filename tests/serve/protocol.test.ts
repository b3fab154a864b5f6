import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, TestClient } from './support/clients';
import { makeDialog, MemoryFeed } from './support/memory-feed';
import { startTestServer, TEST_TOKEN, TestServer } from './support/server-fixture';

describe('WebSocket protocol v1', () => {
  let fixture: TestServer | undefined;
  const clients: TestClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.socket.terminate();
    await fixture?.server.close();
    fixture = undefined;
  });

  async function open(): Promise<TestClient> {
    const client = await connectClient(fixture!.base, { token: TEST_TOKEN });
    clients.push(client);
    return client;
  }

  it('greets with hello: version, agent, model, captures, anonymized', async () => {
    fixture = await startTestServer();
    fixture.feed.addCapture('a.pcapng', { packets: 5 });
    const client = await open();
    const hello = client.messages[0]!;
    expect(hello).toMatchObject({ v: 1, type: 'hello', protocol: 1, agent: 'cumma-test 0.0.0', anonymized: false });
    if (hello.type !== 'hello') throw new Error('first message is not hello');
    expect(hello.model.name).toBe('test@1');
    expect(hello.captures.map((capture) => capture.name)).toEqual(['a.pcapng']);
  });

  it('subscribe answers a snapshot of the chosen captures, then live dialogs of those only', async () => {
    fixture = await startTestServer();
    const { feed } = fixture;
    feed.addCapture('a.pcapng');
    feed.addCapture('b.pcapng');
    const a1 = makeDialog('a.pcapng', { status: 'provisional', usage: 'voice_call' });
    feed.putDialog(a1);
    feed.putDialog({ ...a1, status: 'final', endUs: a1.endUs + 1 }); // latest state replaces
    const a2 = makeDialog('a.pcapng');
    feed.putDialog(a2);
    feed.putDialog(makeDialog('b.pcapng'));
    const client = await open();

    client.send({ v: 1, type: 'subscribe', captures: ['a.pcapng'] });
    const snapshot = await client.next('snapshot');
    expect(snapshot.captures).toEqual(['a.pcapng']);
    expect(snapshot.dialogs.map((dialog) => [dialog.id, dialog.status])).toEqual([
      [a1.id, 'final'],
      [a2.id, 'final'],
    ]);

    const mark = client.messages.length;
    const other = makeDialog('b.pcapng');
    feed.putDialog(other);
    const a3 = makeDialog('a.pcapng', { usage: 'photo' });
    feed.putDialog(a3);
    const live = await client.next('dialog', mark);
    expect(live.dialog).toEqual(a3);
    await client.sync();
    expect(client.of('dialog').map((message) => message.dialog.id)).toEqual([a3.id]);
  });

  it('"*" covers every capture, also ones added later; a new subscribe replaces the old; unsubscribe stops dialogs', async () => {
    fixture = await startTestServer();
    const { feed } = fixture;
    feed.addCapture('a.pcapng');
    const client = await open();
    client.send({ v: 1, type: 'subscribe', captures: '*' });
    expect((await client.next('snapshot')).captures).toEqual(['a.pcapng']);
    feed.addCapture('late.pcapng');
    const late = makeDialog('late.pcapng');
    feed.putDialog(late);
    expect((await client.next('dialog')).dialog.id).toBe(late.id);

    client.send({ v: 1, type: 'subscribe', captures: ['a.pcapng'] });
    await client.until('second snapshot', () => client.of('snapshot').length === 2);
    feed.putDialog(makeDialog('late.pcapng'));
    client.send({ v: 1, type: 'unsubscribe' });
    await client.sync();
    feed.putDialog(makeDialog('a.pcapng'));
    await client.sync();
    expect(client.of('dialog')).toHaveLength(1);
  });

  it('an unknown capture name is reported, and the subscription still catches it when it appears', async () => {
    fixture = await startTestServer();
    const client = await open();
    client.send({ v: 1, type: 'subscribe', captures: ['future.pcapng'] });
    const snapshot = await client.next('snapshot');
    expect(snapshot.dialogs).toEqual([]);
    expect((await client.next('error')).code).toBe('UNKNOWN_CAPTURE');
    fixture.feed.addCapture('future.pcapng');
    const dialog = makeDialog('future.pcapng');
    fixture.feed.putDialog(dialog);
    expect((await client.next('dialog')).dialog.id).toBe(dialog.id);
  });

  it('capture events go to every client, subscribed or not; stats arrive periodically from feed.stats()', async () => {
    fixture = await startTestServer({ limits: { statsIntervalMs: 50 } });
    fixture.feed.currentStats = { packetsPerSecond: 1234, packets: 99, dialogs: 7, captures: [{ name: 'a.pcapng', lagBytes: 10, lagMs: 3 }] };
    const subscribed = await open();
    subscribed.send({ v: 1, type: 'subscribe', captures: ['x'] });
    const idle = await open();
    fixture.feed.addCapture('a.pcapng');
    fixture.feed.captureEvent('a.pcapng', 'error', 'truncated block at byte 4096');
    for (const client of [subscribed, idle]) {
      await client.until('two capture events', () => client.of('capture').length === 2);
      expect(client.of('capture').map((message) => message.event)).toEqual(['added', 'error']);
      expect(client.of('capture')[1]!.message).toBe('truncated block at byte 4096');
      const stats = await client.next('stats');
      expect(stats).toMatchObject({ v: 1, type: 'stats', packetsPerSecond: 1234, packets: 99, dialogs: 7 });
      expect(stats.captures).toEqual([{ name: 'a.pcapng', lagBytes: 10, lagMs: 3 }]);
    }
  });

  it('hello lists the watched folders; folder events go to every client, subscribed or not', async () => {
    fixture = await startTestServer();
    fixture.feed.setFolder('/data/captures', 'watching');
    const subscribed = await open();
    subscribed.send({ v: 1, type: 'subscribe', captures: '*' });
    const idle = await open();
    expect(idle.of('hello')[0]!.folders).toEqual([{ path: '/data/captures', state: 'watching' }]);
    fixture.feed.setFolder('/data/captures', 'missing', '/data/captures: the watched folder is gone');
    fixture.feed.setFolder('/data/captures', 'watching', '/data/captures: the watched folder is back');
    for (const client of [subscribed, idle]) {
      await client.until('two folder events', () => client.of('folder').length === 2);
      expect(client.of('folder')).toEqual([
        { v: 1, type: 'folder', event: 'missing', folder: { path: '/data/captures', state: 'missing' }, message: '/data/captures: the watched folder is gone' },
        { v: 1, type: 'folder', event: 'back', folder: { path: '/data/captures', state: 'watching' }, message: '/data/captures: the watched folder is back' },
      ]);
    }
  });

  it('watch calls feed.watchFolder; a failure is answered with WATCH_FAILED and the connection stays', async () => {
    fixture = await startTestServer();
    const client = await open();
    client.send({ v: 1, type: 'watch', path: '/data/captures' });
    await client.sync();
    expect(fixture.feed.watched).toEqual(['/data/captures']);
    expect(client.of('error')).toEqual([]);

    fixture.feed.watchError = 'no such folder';
    client.send({ v: 1, type: 'watch', path: '/nope' });
    const error = await client.next('error');
    expect(error.code).toBe('WATCH_FAILED');
    expect(error.message).toContain('no such folder');
    client.send({ v: 1, type: 'watch', path: 'relative/dir' });
    await client.until('second error', () => client.of('error').length === 2);
    expect(client.of('error')[1]!.code).toBe('BAD_MESSAGE');
    await client.sync();
  });

  it('ping is answered by pong with the same id', async () => {
    fixture = await startTestServer();
    const client = await open();
    client.send({ v: 1, type: 'ping', id: 42 });
    expect(await client.next('pong')).toEqual({ v: 1, type: 'pong', id: 42 });
  });

  it('close() closes clients with 1001, unsubscribes from the feed and frees the port', async () => {
    fixture = await startTestServer();
    const client = await open();
    expect(fixture.feed.listenerCount).toBe(1);
    await fixture.server.close();
    expect(await client.closed).toEqual({ code: 1001, reason: 'agent shutting down' });
    expect(fixture.feed.listenerCount).toBe(0);
    fixture = undefined;
  });

  it('a port in use is refused with a clear error that keeps the errno code', async () => {
    fixture = await startTestServer();
    const feed = new MemoryFeed();
    const clash = startTestServer({ port: fixture.server.port, feed });
    await expect(clash).rejects.toThrow(/port \d+ on 127\.0\.0\.1 is in use/);
    await expect(clash).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(feed.listenerCount).toBe(0);
  });
});
