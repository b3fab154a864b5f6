import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, refusedStatus, TestClient } from './support/clients';
import { startTestServer, TEST_TOKEN, TestServer } from './support/server-fixture';

describe('WebSocket handshake: token and origin', () => {
  let fixture: TestServer;
  const accepted: TestClient[] = [];
  beforeAll(async () => {
    fixture = await startTestServer();
  });
  afterAll(async () => {
    for (const client of accepted) client.socket.terminate();
    await fixture.server.close();
  });

  it('refuses a handshake without a token with 401 and says how to give one', async () => {
    const refusal = await refusedStatus(fixture.base, {});
    expect(refusal.status).toBe(401);
    expect(refusal.body).toContain('token required');
  });

  it('refuses a wrong token (close, longer, shorter, empty) with 401', async () => {
    for (const token of [`${TEST_TOKEN.slice(0, -1)}0`, `${TEST_TOKEN}0`, TEST_TOKEN.slice(0, 8), '']) {
      expect((await refusedStatus(fixture.base, { token })).status).toBe(401);
    }
    expect((await refusedStatus(fixture.base, { headers: { Authorization: 'Bearer nope-nope-nope-nope' } })).status).toBe(401);
  });

  it('refuses foreign browser origins with 403, even with the right token', async () => {
    const port = fixture.server.port;
    for (const origin of ['https://evil.example', 'null', `http://127.0.0.1:${port + 1}`, `https://127.0.0.1:${port}`, `http://127.0.0.1.evil.example:${port}`, `http://user@127.0.0.1:${port}`, 'file://']) {
      const refusal = await refusedStatus(fixture.base, { token: TEST_TOKEN, origin });
      expect(refusal.status, origin).toBe(403);
    }
  });

  it('accepts no Origin, VS Code webviews and the agent\'s own origin (127.0.0.1, localhost, [::1])', async () => {
    const port = fixture.server.port;
    for (const origin of [undefined, 'vscode-webview://0a1b2c3d4e', `http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`]) {
      const client = await connectClient(fixture.base, { token: TEST_TOKEN, ...(origin === undefined ? {} : { origin }) });
      accepted.push(client);
      expect(client.messages[0]!.type).toBe('hello');
    }
  });

  it('accepts the token in the Authorization and X-Cumma-Token headers', async () => {
    accepted.push(await connectClient(fixture.base, { headers: { Authorization: `Bearer ${TEST_TOKEN}` } }));
    accepted.push(await connectClient(fixture.base, { headers: { 'X-Cumma-Token': TEST_TOKEN } }));
  });

  it('refuses other paths with 404', async () => {
    expect((await refusedStatus(fixture.base, { token: TEST_TOKEN, path: '/socket' })).status).toBe(404);
  });

  it('never writes the token (or a presented wrong one) to the log', async () => {
    await refusedStatus(fixture.base, { token: `x${TEST_TOKEN}` });
    const log = fixture.logLines.join('\n');
    expect(log).toContain('refused (401');
    expect(log).toContain('refused (403');
    expect(log).not.toContain(TEST_TOKEN);
    expect(log).not.toContain(TEST_TOKEN.slice(0, 16));
  });
});

describe('maximum client count', () => {
  it('refuses clients beyond maxClients with 503', async () => {
    const fixture = await startTestServer({ limits: { maxClients: 2 } });
    const clients = [await connectClient(fixture.base, { token: TEST_TOKEN }), await connectClient(fixture.base, { token: TEST_TOKEN })];
    expect((await refusedStatus(fixture.base, { token: TEST_TOKEN })).status).toBe(503);
    for (const client of clients) client.socket.terminate();
    await fixture.server.close();
  });
});
