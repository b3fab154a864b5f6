import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatSidecar } from '../../agent/src/live/sidecar-file';
import { httpGet } from './support/clients';
import { makeDialog } from './support/memory-feed';
import { startTestServer, TEST_TOKEN, TestServer } from './support/server-fixture';

describe('HTTP endpoints', () => {
  let fixture: TestServer | undefined;
  afterEach(async () => {
    await fixture?.server.close();
    fixture = undefined;
  });

  async function withDialogs(): Promise<TestServer> {
    fixture = await startTestServer();
    fixture.feed.addCapture('a.pcapng');
    fixture.feed.addCapture('b.pcapng');
    fixture.feed.putDialog(makeDialog('a.pcapng', { usage: 'voice_call', confidence: 0.5 }));
    fixture.feed.putDialog(makeDialog('a.pcapng', { l4: 'udp', client: { ip: '2001:db8::7', port: 5000 }, server: { ip: '2001:db8::1', port: 3478 } }));
    fixture.feed.putDialog(makeDialog('b.pcapng'));
    return fixture;
  }

  it('GET /health needs no token: status, agent, protocol, captures, folders, uptime', async () => {
    const { base, feed } = await withDialogs();
    feed.setFolder('/captures', 'watching');
    const response = await httpGet(base, '/health');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = JSON.parse(response.body) as Record<string, unknown>;
    expect(body).toEqual({ status: 'ok', agent: 'cumma-test 0.0.0', protocol: 1, captures: 2, folders: 1, foldersMissing: 0, uptimeS: expect.any(Number) });
  });

  it('GET /health says degraded (still 200, no path) while a watched folder is missing, ok once it is back', async () => {
    const { base, feed } = await withDialogs();
    feed.setFolder('/captures', 'watching');
    feed.setFolder('/mnt/share', 'missing');
    const degraded = await httpGet(base, '/health');
    expect(degraded.status).toBe(200);
    expect(JSON.parse(degraded.body)).toMatchObject({ status: 'degraded', folders: 2, foldersMissing: 1 });
    // No token: counts only, never which folder.
    expect(degraded.body).not.toContain('/mnt/share');
    feed.setFolder('/mnt/share', 'watching');
    expect(JSON.parse((await httpGet(base, '/health')).body)).toMatchObject({ status: 'ok', folders: 2, foldersMissing: 0 });
  });

  it('GET /labels format=tsv is the sidecar of the capture, format=jsonl one dialog per line', async () => {
    const { base, feed } = await withDialogs();
    const tsv = await httpGet(base, `/labels?capture=a.pcapng&format=tsv&token=${TEST_TOKEN}`);
    expect(tsv.status).toBe(200);
    expect(tsv.headers['content-type']).toBe('text/tab-separated-values; charset=utf-8');
    expect(tsv.body).toBe(formatSidecar(feed.dialogs('a.pcapng')));
    expect(tsv.body.split('\n')).toHaveLength(4); // header, 2 dialogs, final newline

    const jsonl = await httpGet(base, `/labels?capture=a.pcapng&format=jsonl&token=${TEST_TOKEN}`);
    expect(jsonl.status).toBe(200);
    expect(jsonl.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    const lines = jsonl.body.trimEnd().split('\n').map((line) => JSON.parse(line) as unknown);
    expect(lines).toEqual(feed.dialogs('a.pcapng'));

    const byDefault = await httpGet(base, `/labels?capture=b.pcapng&token=${TEST_TOKEN}`);
    expect(byDefault.body).toBe(formatSidecar(feed.dialogs('b.pcapng')));
  });

  it('/labels: unknown capture 404, missing capture or bad format 400, all with a message', async () => {
    const { base } = await withDialogs();
    const unknown = await httpGet(base, `/labels?capture=zz.pcapng&token=${TEST_TOKEN}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toContain('unknown capture "zz.pcapng"');
    expect((await httpGet(base, `/labels?token=${TEST_TOKEN}`)).status).toBe(400);
    const badFormat = await httpGet(base, `/labels?capture=a.pcapng&format=xml&token=${TEST_TOKEN}`);
    expect(badFormat.status).toBe(400);
    const twice = await httpGet(base, `/labels?capture=a.pcapng&capture=b.pcapng&token=${TEST_TOKEN}`);
    expect(twice.status).toBe(400);
    expect(twice.body).toContain('one capture per request');
    expect(badFormat.body).toContain('tsv or jsonl');
  });

  it('GET /captures lists the captures as JSON', async () => {
    const { base, feed } = await withDialogs();
    const response = await httpGet(base, '/captures', { 'X-Cumma-Token': TEST_TOKEN });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual(feed.captures());
  });

  it('token-protected endpoints: 401 without or with a wrong token; query, Bearer and X-Cumma-Token accepted', async () => {
    const { base } = await withDialogs();
    for (const path of ['/captures', '/labels?capture=a.pcapng']) {
      const missing = await httpGet(base, path);
      expect(missing.status).toBe(401);
      expect(missing.headers['www-authenticate']).toContain('Bearer');
      expect(missing.body).toContain('token required');
      expect((await httpGet(base, `${path}${path.includes('?') ? '&' : '?'}token=wrong${TEST_TOKEN}`)).status).toBe(401);
      expect((await httpGet(base, path, { Authorization: `Bearer ${TEST_TOKEN.slice(1)}` })).status).toBe(401);
      expect((await httpGet(base, path, { Authorization: `Bearer ${TEST_TOKEN}` })).status).toBe(200);
      expect((await httpGet(base, path, { 'X-Cumma-Token': TEST_TOKEN })).status).toBe(200);
      expect((await httpGet(base, `${path}${path.includes('?') ? '&' : '?'}token=${TEST_TOKEN}`)).status).toBe(200);
    }
  });

  it('a foreign Origin is refused with 403 even with the token; a VS Code webview gets CORS headers', async () => {
    const { base, server } = await withDialogs();
    const auth = { Authorization: `Bearer ${TEST_TOKEN}` };
    expect((await httpGet(base, '/captures', { ...auth, Origin: 'https://evil.example' })).status).toBe(403);
    expect((await httpGet(base, '/captures', { ...auth, Origin: `http://127.0.0.1:${server.port + 1}` })).status).toBe(403);
    const webview = await httpGet(base, '/captures', { ...auth, Origin: 'vscode-webview://1a2b3c' });
    expect(webview.status).toBe(200);
    expect(webview.headers['access-control-allow-origin']).toBe('vscode-webview://1a2b3c');
    const preflight = await httpGet(base, '/labels', { Origin: 'vscode-webview://1a2b3c', 'Access-Control-Request-Method': 'GET' }, 'OPTIONS');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-headers']).toContain('x-cumma-token');
    expect((await httpGet(base, '/labels', { Origin: 'https://evil.example' }, 'OPTIONS')).status).toBe(403);
    const own = await httpGet(base, '/captures', { ...auth, Origin: `http://localhost:${server.port}` });
    expect(own.status).toBe(200);
  });

  it('other methods get 405; API responses are not cacheable and not sniffable', async () => {
    const { base } = await withDialogs();
    expect((await httpGet(base, '/health', {}, 'POST')).status).toBe(405);
    const health = await httpGet(base, '/health');
    expect(health.headers['cache-control']).toBe('no-store');
    expect(health.headers['x-content-type-options']).toBe('nosniff');
    expect(health.headers['content-security-policy']).toContain("default-src 'none'");
  });

  describe('web panel files', () => {
    let root: string;
    let panel: string;
    beforeAll(() => {
      root = mkdtempSync(join(tmpdir(), 'cumma-serve-static-'));
      panel = join(root, 'panel');
      mkdirSync(join(panel, 'assets'), { recursive: true });
      writeFileSync(join(panel, 'index.html'), '<!doctype html><script src="app.js"></script>');
      writeFileSync(join(panel, 'app.js'), 'console.log(1)');
      writeFileSync(join(panel, 'assets', 'style.css'), 'body{}');
      writeFileSync(join(panel, '.env'), 'hidden');
      writeFileSync(join(root, 'secret.txt'), 'SECRET-OUTSIDE');
      symlinkSync(join(root, 'secret.txt'), join(panel, 'link.txt'));
    });
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    it('serves index.html at / and files with their content types and a strict CSP', async () => {
      fixture = await startTestServer({ staticDir: panel });
      const index = await httpGet(fixture.base, '/');
      expect(index.status).toBe(200);
      expect(index.body).toContain('<script src="app.js">');
      expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
      const csp = index.headers['content-security-policy'] ?? '';
      expect(csp).toMatch(/^default-src 'none'; /);
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${fixture.server.port}`);
      expect(csp).not.toContain('unsafe');
      expect((await httpGet(fixture.base, '/app.js')).headers['content-type']).toBe('text/javascript; charset=utf-8');
      const css = await httpGet(fixture.base, '/assets/style.css');
      expect([css.status, css.headers['content-type'], css.body]).toEqual([200, 'text/css; charset=utf-8', 'body{}']);
    });

    it('refuses path traversal, symlinks out of the folder and dot-files', async () => {
      fixture = await startTestServer({ staticDir: panel });
      for (const path of ['/../secret.txt', '/..%2fsecret.txt', '/%2e%2e/secret.txt', '/assets/../../secret.txt', '/assets/%2e%2e%2f%2e%2e%2fsecret.txt', '/link.txt', '/.env', '/%00index.html', '/..\\secret.txt']) {
        const response = await httpGet(fixture.base, path);
        expect(response.status, path).toBe(404);
        expect(response.body).not.toContain('SECRET-OUTSIDE');
      }
    });

    it('a missing panel folder, file or none configured is a 404 saying so', async () => {
      fixture = await startTestServer({ staticDir: join(root, 'not-built') });
      const missing = await httpGet(fixture.base, '/');
      expect(missing.status).toBe(404);
      expect(missing.body).toContain('the web panel is not built');
      await fixture.server.close();
      fixture = await startTestServer({ staticDir: panel });
      expect((await httpGet(fixture.base, '/nope.js')).body).toContain('no such file in the web panel');
      await fixture.server.close();
      fixture = await startTestServer();
      const none = await httpGet(fixture.base, '/');
      expect(none.status).toBe(404);
      expect(none.body).toContain('serves no web panel');
    });
  });
});
