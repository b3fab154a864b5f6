/**
 * Serves the web panel's files (dist/panel/) at `/`. Only regular files inside the folder, after
 * resolving `..` and symbolic links, and never dot-files; everything else is a 404 that says
 * what is missing. Each response carries a strict Content-Security-Policy: the panel's own
 * scripts, styles and images, a WebSocket back to the agent, nothing else.
 */
import { realpath, readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { sendBody, sendText } from './http-response';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** A Host header we are willing to write into the CSP (no quotes, spaces or semicolons). */
const SAFE_HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The CSP of panel files; `host` is the request's Host, for the WebSocket back to the agent. */
export function panelCsp(host: string | undefined): string {
  const socket = host !== undefined && SAFE_HOST.test(host) ? ` ws://${host}` : '';
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${socket}`,
    "base-uri 'none'",
    "form-action 'none'",
    // A VS Code webview may show the panel in a frame; other pages may not.
    "frame-ancestors 'self' vscode-webview:",
  ].join('; ');
}

export async function serveStatic(request: IncomingMessage, response: ServerResponse, pathname: string, staticDir: string | undefined): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    sendText(request, response, 405, `${request.method ?? '?'} not allowed; use GET`, { Allow: 'GET, HEAD' });
    return;
  }
  if (staticDir === undefined) {
    sendText(request, response, 404, `not found: ${pathname.slice(0, 200)} (this agent serves no web panel; endpoints: /health, /captures, /labels)`);
    return;
  }
  const file = await resolveInside(staticDir, pathname);
  if (file === undefined) {
    const what = pathname === '/' ? `the web panel is not built (no index.html in ${staticDir})` : `no such file in the web panel: ${pathname.slice(0, 200)}`;
    sendText(request, response, 404, `not found: ${what}`);
    return;
  }
  const body = await readFile(file);
  sendBody(request, response, 200, CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream', body, {
    'Cache-Control': 'no-cache',
    'Content-Security-Policy': panelCsp(request.headers.host),
  });
}

/** The real path of the regular file `pathname` names inside `root`, or undefined. */
async function resolveInside(root: string, pathname: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const relative = decoded.endsWith('/') ? `${decoded}index.html` : decoded;
  if (relative.split(/[\\/]/).some((segment) => segment.startsWith('.'))) return undefined;
  try {
    const realRoot = await realpath(root);
    const real = await realpath(resolve(realRoot, join('.', relative)));
    if (!real.startsWith(realRoot + sep)) return undefined;
    return (await stat(real)).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}
