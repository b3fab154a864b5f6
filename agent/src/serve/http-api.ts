/**
 * The plain-HTTP endpoints on the agent's port:
 * - GET /health: liveness for scripts and the VS Code extension; no token (it reveals nothing
 *   but counts); `status` is `degraded` while a watched folder is missing.
 * - GET /captures: the watched captures, JSON; token.
 * - GET /labels?capture=NAME&format=tsv|jsonl: a capture's dialogs as the Wireshark sidecar
 *   (tsv) or one dialog record per line (jsonl); token.
 * Token-protected endpoints answer allowed browser origins (VS Code webviews) with CORS headers,
 * including the preflight a header-carrying fetch needs.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { formatSidecar } from '../live/sidecar-file';
import { checkAccess } from './access-check';
import { TOKEN_HEADER } from './auth';
import { isOriginAllowed, OwnAddress } from './origin-policy';
import { PROTOCOL_VERSION } from './protocol';
import { MessageEncoder } from './server-messages';
import { sendBody, sendJson, sendText } from './http-response';

export interface HttpApiContext {
  readonly encoder: MessageEncoder;
  readonly token: string;
  readonly agentVersion: string;
  readonly startedAt: number;
  own(): OwnAddress;
}

const PROTECTED = new Set(['/captures', '/labels']);
export const API_PATHS: ReadonlySet<string> = new Set(['/health', ...PROTECTED]);

/** Answers `url` if it is an API path; false if it is not one (left to the static files). */
export function handleApiRequest(request: IncomingMessage, response: ServerResponse, url: URL, context: HttpApiContext): boolean {
  if (!API_PATHS.has(url.pathname)) return false;
  if (request.method === 'OPTIONS' && PROTECTED.has(url.pathname)) {
    preflight(request, response, context);
    return true;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    sendText(request, response, 405, `${request.method ?? '?'} not allowed; use GET`, { Allow: 'GET, HEAD' });
    return true;
  }
  if (url.pathname === '/health') {
    health(request, response, context);
    return true;
  }
  const access = checkAccess(request, url.searchParams, context.token, context.own());
  if (!access.ok) {
    sendText(request, response, access.status, access.reason, access.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="cumma"' } : {});
    return true;
  }
  const cors = corsHeaders(request);
  if (url.pathname === '/captures') sendJson(request, response, 200, context.encoder.captures(), cors);
  else labels(request, response, url.searchParams, context, cors);
  return true;
}

function health(request: IncomingMessage, response: ServerResponse, context: HttpApiContext): void {
  const folders = context.encoder.folders();
  const missing = folders.filter((folder) => folder.state === 'missing').length;
  // Still 200: the agent is alive and serves what it has. A check that only looks at `status`
  // sees that something it was asked to watch is not being watched.
  sendJson(request, response, 200, {
    status: missing > 0 ? 'degraded' : 'ok',
    agent: context.agentVersion,
    protocol: PROTOCOL_VERSION,
    captures: context.encoder.captures().length,
    folders: folders.length,
    foldersMissing: missing,
    uptimeS: Math.round((performance.now() - context.startedAt) / 1000),
  });
}

function labels(request: IncomingMessage, response: ServerResponse, query: URLSearchParams, context: HttpApiContext, cors: OutgoingHttpHeaders): void {
  const capture = query.get('capture');
  if (capture === null || capture === '') {
    sendText(request, response, 400, 'missing query parameter: capture=NAME (see /captures for the names)', cors);
    return;
  }
  // One capture per request: silently answering for the first of several would look like all.
  if (query.getAll('capture').length > 1 || query.getAll('format').length > 1) {
    sendText(request, response, 400, 'give capture=NAME (and format) once: one capture per request', cors);
    return;
  }
  const format = query.get('format') ?? 'tsv';
  if (format !== 'tsv' && format !== 'jsonl') {
    sendText(request, response, 400, 'format must be tsv or jsonl', cors);
    return;
  }
  if (!context.encoder.captures().some((known) => known.name === capture)) {
    sendText(request, response, 404, `unknown capture ${JSON.stringify(capture.slice(0, 256))} (see /captures for the names)`, cors);
    return;
  }
  const dialogs = context.encoder.dialogs(capture);
  if (format === 'tsv') {
    sendBody(request, response, 200, 'text/tab-separated-values; charset=utf-8', formatSidecar(dialogs), cors);
  } else {
    const body = dialogs.map((dialog) => `${JSON.stringify(dialog)}\n`).join('');
    sendBody(request, response, 200, 'application/x-ndjson; charset=utf-8', body, cors);
  }
}

function preflight(request: IncomingMessage, response: ServerResponse, context: HttpApiContext): void {
  const origin = request.headers.origin;
  if (origin === undefined || !isOriginAllowed(origin, context.own())) {
    sendText(request, response, 403, 'origin not allowed');
    return;
  }
  response.writeHead(204, {
    ...corsHeaders(request),
    'Access-Control-Allow-Methods': 'GET, HEAD',
    'Access-Control-Allow-Headers': `Authorization, ${TOKEN_HEADER}`,
    'Access-Control-Max-Age': '600',
  });
  response.end();
}

/** CORS headers for an allowed browser origin (callers have checked it); none without Origin. */
function corsHeaders(request: IncomingMessage): OutgoingHttpHeaders {
  const origin = request.headers.origin;
  return origin === undefined ? {} : { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
}
