import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, makeNonce, webviewHtml } from '../../vscode-extension/src/host/webview-html';

describe('webview HTML', () => {
  const page = { cspSource: 'https://abc.vscode-cdn.net', scriptUri: 'https://abc.vscode-cdn.net/dist/panel.js', styleUri: 'https://abc.vscode-cdn.net/dist/panel.css', title: 'Cumma <test>' };

  it("denies everything by default and lets in only the nonce'd script and stylesheet", () => {
    const csp = contentSecurityPolicy(page.cspSource, 'N0nce');
    expect(csp.split('; ')[0]).toBe("default-src 'none'");
    expect(csp).toContain("script-src 'nonce-N0nce'");
    expect(csp).toContain("style-src 'nonce-N0nce'");
    expect(csp).not.toContain('unsafe');
    const html = webviewHtml({ ...page, nonce: 'N0nce' });
    expect(html).toContain('<script nonce="N0nce" src="https://abc.vscode-cdn.net/dist/panel.js"');
    expect(html).toContain('<link rel="stylesheet" nonce="N0nce"');
    expect(html).toContain('Cumma &lt;test&gt;');
    // Nothing inline: no <script> or <style> body, no on* handlers.
    expect(html).not.toMatch(/<script[^>]*>[^<]/);
    expect(html).not.toMatch(/<style/);
    expect(html).not.toMatch(/\son\w+=/);
  });

  it('makes a fresh random nonce each time', () => {
    const nonces = new Set(Array.from({ length: 50 }, () => makeNonce()));
    expect(nonces.size).toBe(50);
    for (const nonce of nonces) expect(nonce).toMatch(/^[A-Za-z0-9+/]{24}$/);
  });
});
