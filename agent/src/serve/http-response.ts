/**
 * Writing HTTP responses with the headers every response of the agent carries: no sniffing, no
 * caching of data, no referrer, and a CSP that lets nothing load from API responses.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

export const API_CSP = "default-src 'none'; frame-ancestors 'none'";

const BASE_HEADERS: OutgoingHttpHeaders = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export function sendBody(
  request: IncomingMessage,
  response: ServerResponse,
  status: number,
  contentType: string,
  body: string | Buffer,
  headers: OutgoingHttpHeaders = {},
): void {
  response.writeHead(status, {
    ...BASE_HEADERS,
    'Cache-Control': 'no-store',
    'Content-Security-Policy': API_CSP,
    ...headers,
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
  });
  // HEAD gets the headers of GET, without the body.
  response.end(request.method === 'HEAD' ? undefined : body);
}

export function sendText(request: IncomingMessage, response: ServerResponse, status: number, text: string, headers: OutgoingHttpHeaders = {}): void {
  sendBody(request, response, status, 'text/plain; charset=utf-8', `${text}\n`, headers);
}

export function sendJson(request: IncomingMessage, response: ServerResponse, status: number, value: unknown, headers: OutgoingHttpHeaders = {}): void {
  sendBody(request, response, status, 'application/json; charset=utf-8', `${JSON.stringify(value)}\n`, headers);
}
