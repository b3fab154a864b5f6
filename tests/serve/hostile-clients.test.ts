import { afterEach, describe, expect, it } from 'vitest';
import { LiveDialog } from '../../agent/src/live/label-feed';
import { connectClient, RawSocketClient, TestClient } from './support/clients';
import { makeDialog } from './support/memory-feed';
import { startTestServer, TEST_TOKEN, TestServer } from './support/server-fixture';

/** 1000 bad messages of every kind, with the error code each must get. */
function malformedMessages(): Array<{ text: string; code: string }> {
  const kinds: Array<{ text: string; code: string }> = [
    { text: '{', code: 'BAD_JSON' },
    { text: 'not json at all', code: 'BAD_JSON' },
    { text: '', code: 'BAD_JSON' },
    { text: '[1,2,3]', code: 'BAD_MESSAGE' },
    { text: 'null', code: 'BAD_MESSAGE' },
    { text: '42', code: 'BAD_MESSAGE' },
    { text: '"subscribe"', code: 'BAD_MESSAGE' },
    { text: '{"v":1}', code: 'BAD_MESSAGE' },
    { text: '{"v":1,"type":7}', code: 'BAD_MESSAGE' },
    { text: '{"type":"ping"}', code: 'BAD_MESSAGE' },
    { text: '{"v":2,"type":"ping"}', code: 'UNSUPPORTED_VERSION' },
    { text: '{"v":1,"type":"launch"}', code: 'UNKNOWN_TYPE' },
    { text: '{"v":1,"type":"__proto__"}', code: 'UNKNOWN_TYPE' },
    { text: '{"v":1,"type":"subscribe"}', code: 'BAD_MESSAGE' },
    { text: '{"v":1,"type":"subscribe","captures":"a.pcapng"}', code: 'BAD_MESSAGE' },
    { text: '{"v":1,"type":"subscribe","captures":[1,2]}', code: 'BAD_MESSAGE' },
    { text: '{"v":1,"type":"subscribe","captures":[""]}', code: 'BAD_MESSAGE' },
    { text: `{"v":1,"type":"subscribe","captures":${JSON.stringify(Array.from({ length: 1001 }, (_, i) => `c${i}`))}}`, code: 'BAD_MESSAGE' },
    { text: '{"v":1,"type":"watch"}', code: 'BAD_MESSAGE' },
    { text: '{"v":1,"type":"watch","path":{"x":1}}', code: 'BAD_MESSAGE' },
    { text: '{"v":1,"type":"ping","id":{"nested":true}}', code: 'BAD_MESSAGE' },
    { text: '{"v":1,"type":"ping","id":' + '1e999' + '}', code: 'BAD_MESSAGE' },
    { text: '{"v":1,"type":"ping","__proto__":{"type":"x"}}', code: '' },
  ];
  const messages: Array<{ text: string; code: string }> = [];
  for (let i = 0; messages.length < 1000; i++) {
    const kind = kinds[i % kinds.length]!;
    if (kind.code !== '') messages.push(kind);
  }
  return messages;
}

describe('hostile clients', () => {
  let fixture: TestServer | undefined;
  const clients: Array<{ socket: { terminate(): void } }> = [];
  const raws: RawSocketClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.socket.terminate();
    for (const raw of raws.splice(0)) raw.destroy();
    await fixture?.server.close();
    fixture = undefined;
  });

  async function open(): Promise<TestClient> {
    const client = await connectClient(fixture!.base, { token: TEST_TOKEN });
    clients.push(client);
    return client;
  }

  it('1000 malformed messages: one error reply each with the right code, the connection stays, others are served', async () => {
    fixture = await startTestServer({ limits: { messagesPerSecond: 1e6, messageBurst: 1e6 } });
    fixture.feed.addCapture('a.pcapng');
    const bystander = await open();
    bystander.send({ v: 1, type: 'subscribe', captures: '*' });
    await bystander.next('snapshot');
    const hostile = await open();
    const messages = malformedMessages();
    for (const message of messages) hostile.send(message.text);
    hostile.socket.send(Buffer.from([1, 2, 3])); // a binary frame
    await hostile.until('1001 errors', () => hostile.of('error').length >= 1001);
    const codes = hostile.of('error').map((error) => error.code);
    expect(codes).toEqual([...messages.map((message) => message.code), 'BAD_MESSAGE']);
    expect(hostile.isOpen).toBe(true);
    await hostile.sync();

    const dialog = makeDialog('a.pcapng');
    fixture.feed.putDialog(dialog);
    expect((await bystander.next('dialog')).dialog.id).toBe(dialog.id);
    expect((await hostile.next('hello')).type).toBe('hello');
  });

  it('rate limit: over the burst, messages are dropped with one RATE_LIMITED reply; the connection stays', async () => {
    fixture = await startTestServer({ limits: { messagesPerSecond: 5, messageBurst: 20 } });
    const client = await open();
    for (let i = 0; i < 200; i++) client.send({ v: 1, type: 'ping', id: i });
    await client.until('the rate-limit error', () => client.of('error').length > 0);
    // Wait for the bucket to refill before the round trip; then nothing else must have arrived.
    await new Promise((resolve) => setTimeout(resolve, 400));
    await client.sync();
    const pongs = client.of('pong').filter((pong) => typeof pong.id === 'number');
    expect(pongs.length).toBeGreaterThanOrEqual(20);
    expect(pongs.length).toBeLessThan(30);
    expect(client.of('error').map((error) => error.code)).toEqual(['RATE_LIMITED']);
    expect(client.isOpen).toBe(true);
  });

  it('sustained flooding closes the client with 1008', async () => {
    fixture = await startTestServer({ limits: { messagesPerSecond: 5, messageBurst: 10, maxDroppedPerWindow: 300 } });
    const client = await open();
    const bystander = await open();
    for (let i = 0; i < 1000; i++) client.send('{"v":1,"type":"ping"}');
    expect(await client.closed).toEqual({ code: 1008, reason: 'rate limit exceeded' });
    expect(fixture.server.debugStats().rateLimitCloses).toBe(1);
    await bystander.sync();
  });

  it('a message over the size limit closes the connection with 1009 (ws maxPayload)', async () => {
    fixture = await startTestServer({ limits: { maxMessageBytes: 1024 } });
    const client = await open();
    client.send({ v: 1, type: 'ping', id: 'x'.repeat(200) });
    await client.next('pong');
    client.send({ v: 1, type: 'watch', path: `/${'x'.repeat(2000)}` });
    expect((await client.closed).code).toBe(1009);
    const other = await open();
    await other.sync();
  });

  it('50 concurrent clients all receive a capture event and a dialog', async () => {
    fixture = await startTestServer();
    fixture.feed.addCapture('a.pcapng');
    const many = await Promise.all(Array.from({ length: 50 }, () => open()));
    for (const client of many) client.send({ v: 1, type: 'subscribe', captures: ['a.pcapng'] });
    await Promise.all(many.map((client) => client.next('snapshot')));
    expect(fixture.server.debugStats().clients).toBe(50);
    fixture.feed.addCapture('b.pcapng');
    const dialog = makeDialog('a.pcapng');
    fixture.feed.putDialog(dialog);
    await Promise.all(
      many.map(async (client) => {
        expect((await client.next('capture')).capture.name).toBe('b.pcapng');
        expect((await client.next('dialog')).dialog).toEqual(dialog);
      }),
    );
  });

  describe('a client that never reads', () => {
    const limits = { highWaterBytes: 128 * 1024, maxQueuedMessages: 500, maxQueuedBytes: 1024 * 1024, closeGraceMs: 200, statsIntervalMs: 100 };
    /** A dialog message of about 1.5 KB, so that megabytes go out quickly. */
    const bulky = (capture: string, id: string, round: number) => makeDialog(capture, { id: `${id}:${'p'.repeat(1200)}`, dialog: round });

    it('with ever new dialogs: is closed as a slow consumer, queues stay bounded, the others get everything', async () => {
      // A long grace, so that the stuck client can read what it was sent up to the close frame.
      fixture = await startTestServer({ limits: { ...limits, closeGraceMs: 10_000 } });
      const { feed, server } = fixture;
      feed.addCapture('a.pcapng');
      const reader = await open();
      reader.send({ v: 1, type: 'subscribe', captures: '*' });
      await reader.next('snapshot');
      const stuck = await RawSocketClient.open(fixture.base, TEST_TOKEN);
      raws.push(stuck);
      stuck.socket.write(maskedText(JSON.stringify({ v: 1, type: 'subscribe', captures: '*' })));
      await reader.sync(); // the stuck client's subscribe has been handled by now too
      expect(server.debugStats().clients).toBe(2);

      let sentBytes = 0;
      let peakQueuedBytes = 0;
      let peakQueuedMessages = 0;
      let lastId = '';
      for (let batch = 0; batch < 400 && server.debugStats().slowConsumerCloses === 0; batch++) {
        for (let i = 0; i < 100; i++) {
          const dialog = bulky('a.pcapng', `a#${batch}.${i}`, batch);
          feed.putDialog(dialog);
          lastId = dialog.id;
          sentBytes += JSON.stringify(dialog).length;
        }
        const stats = server.debugStats();
        peakQueuedBytes = Math.max(peakQueuedBytes, stats.maxClientQueuedBytes);
        peakQueuedMessages = Math.max(peakQueuedMessages, stats.maxClientQueuedMessages);
        // Keep pace with the reading client (same process): it must never look slow itself.
        await reader.until(`dialog ${batch}`, () => lastDialog(reader)?.id === lastId);
      }
      const stats = server.debugStats();
      console.log(`slow consumer closed after ${(sentBytes / 1e6).toFixed(1)} MB of dialogs; peak queue ${peakQueuedMessages} messages, ${(stats.peakQueuedBytes / 1024).toFixed(0)} KiB`);
      expect(stats.slowConsumerCloses).toBe(1);
      expect(stats.peakQueuedMessages).toBeLessThanOrEqual(limits.maxQueuedMessages + 1);
      expect(stats.peakQueuedBytes).toBeLessThanOrEqual(limits.maxQueuedBytes + 2048);
      expect(peakQueuedBytes).toBeLessThanOrEqual(limits.maxQueuedBytes + 2048);
      expect(fixture.logLines.some((line) => line.includes('slow consumer'))).toBe(true);
      // Reading now, the stuck client finds the SLOW_CONSUMER error and then the close frame.
      const { texts, close } = await stuck.readAll(() => false);
      expect(close).toEqual({ code: 1013, reason: 'slow consumer' });
      expect(JSON.parse(texts[texts.length - 1]!)).toMatchObject({ type: 'error', code: 'SLOW_CONSUMER' });
      stuck.destroy();
      await waitFor(() => server.debugStats().clients === 1, 'the stuck client to be dropped');
      expect(server.debugStats().bufferedBytes).toBeLessThan(limits.highWaterBytes + 4096);
      const mark = reader.messages.length;
      const after = makeDialog('a.pcapng');
      feed.putDialog(after);
      expect((await reader.next('dialog', mark)).dialog.id).toBe(after.id);
      expect(reader.isOpen).toBe(true);
    });

    it('with updates of the same dialogs: stays connected, its queue holds one entry per dialog, and it gets the latest state when it reads', async () => {
      fixture = await startTestServer({ limits: { ...limits, maxQueuedMessages: 1000 } });
      const { feed, server } = fixture;
      feed.addCapture('a.pcapng');
      const reader = await open();
      reader.send({ v: 1, type: 'subscribe', captures: '*' });
      await reader.next('snapshot');
      const stuck = await RawSocketClient.open(fixture.base, TEST_TOKEN);
      raws.push(stuck);
      stuck.socket.write(maskedText(JSON.stringify({ v: 1, type: 'subscribe', captures: '*' })));
      await reader.sync();

      const ids = Array.from({ length: 100 }, (_, i) => `call#${i}`);
      let round = 0;
      let sentBytes = 0;
      let roundsSinceQueueing = 0;
      let peakQueuedMessages = 0;
      // Go on until the stuck client's queue has been in use for 10 rounds (kernel buffers full).
      for (; round < 2000 && roundsSinceQueueing < 10; round++) {
        for (const id of ids) {
          const dialog = bulky('a.pcapng', id, round);
          feed.putDialog(dialog);
          sentBytes += JSON.stringify(dialog).length;
        }
        const stats = server.debugStats();
        peakQueuedMessages = Math.max(peakQueuedMessages, stats.maxClientQueuedMessages);
        if (stats.maxClientQueuedMessages > 0) roundsSinceQueueing += 1;
        const lastId = `${ids[ids.length - 1]}:`;
        const lastRound = round;
        await reader.until(`round ${round}`, () => {
          const last = lastDialog(reader);
          return last !== undefined && last.id.startsWith(lastId) && last.dialog === lastRound;
        });
      }
      expect(roundsSinceQueueing).toBe(10);
      const stats = server.debugStats();
      console.log(`coalescing: ${(sentBytes / 1e6).toFixed(1)} MB of updates to ${ids.length} dialogs; stuck client's queue peaked at ${peakQueuedMessages} messages`);
      expect(stats.slowConsumerCloses).toBe(0);
      expect(stats.clients).toBe(2);
      // One entry per dialog id, plus stats and nothing else.
      expect(peakQueuedMessages).toBeLessThanOrEqual(ids.length + 1);
      expect(stats.peakQueuedMessages).toBeLessThanOrEqual(ids.length + 1);

      const finalRound = round - 1;
      const { texts } = await stuck.readAll((text) => text.includes(`"dialog":${finalRound},`) && text.includes(`"id":"${ids[ids.length - 1]}:`));
      const latest = new Map<string, number>();
      for (const text of texts) {
        const message = JSON.parse(text) as { type: string; dialog?: { id: string; dialog: number } };
        if (message.type === 'dialog') latest.set(message.dialog!.id.split(':')[0]!, message.dialog!.dialog);
      }
      expect(latest.size).toBe(ids.length);
      for (const id of ids) expect(latest.get(id), id).toBe(finalRound);
    });
  });
});

/** The newest dialog the client has received (stats and the like come in between). */
function lastDialog(client: TestClient): LiveDialog | undefined {
  for (let index = client.messages.length - 1; index >= 0; index--) {
    const message = client.messages[index]!;
    if (message.type === 'dialog') return message.dialog;
  }
  return undefined;
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A masked client text frame (clients must mask, RFC 6455 section 5.3). */
function maskedText(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  if (payload.length > 125) throw new Error('test helper handles short frames only');
  const mask = Buffer.from([0x11, 0x22, 0x33, 0x44]);
  const frame = Buffer.alloc(2 + 4 + payload.length);
  frame[0] = 0x81;
  frame[1] = 0x80 | payload.length;
  mask.copy(frame, 2);
  for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i]! ^ mask[i % 4]!;
  return frame;
}
