/**
 * The HTML of the webviews: no remote resources, a Content-Security-Policy of
 * `default-src 'none'` that lets in only the bundled script and stylesheet, each carrying a
 * fresh nonce from a cryptographic source.
 */
import { randomBytes } from 'node:crypto';

export function makeNonce(): string {
  return randomBytes(18).toString('base64');
}

export interface WebviewPage {
  /** webview.cspSource: the origin the webview loads local resources from. */
  readonly cspSource: string;
  readonly scriptUri: string;
  readonly styleUri: string;
  readonly title: string;
  readonly nonce?: string;
}

const escapeAttribute = (text: string): string => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export function webviewHtml(page: WebviewPage): string {
  const nonce = page.nonce ?? makeNonce();
  return `<!doctype html>
<html lang="en" data-host="vscode">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttribute(contentSecurityPolicy(page.cspSource, nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeAttribute(page.title)}</title>
<link rel="stylesheet" nonce="${nonce}" href="${escapeAttribute(page.styleUri)}">
<script nonce="${nonce}" src="${escapeAttribute(page.scriptUri)}" defer></script>
</head>
<body>
<div id="app"></div>
</body>
</html>`;
}
