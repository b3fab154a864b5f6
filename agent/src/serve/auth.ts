/**
 * Finding the client's token in a request and checking it. Browsers cannot set headers on a
 * WebSocket handshake, hence the query parameter; other clients should prefer a header, which
 * stays out of URLs that proxies and shells may log.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const TOKEN_QUERY_PARAMETER = 'token';
export const TOKEN_HEADER = 'x-cumma-token';

/**
 * The token a request presents: `Authorization: Bearer T`, else `X-Cumma-Token: T`, else
 * `?token=T`; undefined when none is given.
 */
export function presentedToken(headers: IncomingHttpHeaders, query: URLSearchParams): string | undefined {
  const authorization = headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    if (match !== null) return match[1];
  }
  const header = headers[TOKEN_HEADER];
  if (typeof header === 'string' && header !== '') return header.trim();
  return query.get(TOKEN_QUERY_PARAMETER) ?? undefined;
}

/**
 * Constant-time comparison. Both sides are hashed first so that the comparison also takes the
 * same time whatever the presented token's length (timingSafeEqual needs equal lengths).
 */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
