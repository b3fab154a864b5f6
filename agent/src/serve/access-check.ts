/**
 * The access decision for token-protected requests, shared by the WebSocket upgrade and the
 * HTTP API: first the Origin (a foreign browser page is refused whatever it presents), then the
 * token. Refusal texts never echo what was presented.
 */
import type { IncomingMessage } from 'node:http';
import { presentedToken, tokenMatches } from './auth';
import { isOriginAllowed, OwnAddress } from './origin-policy';

export type AccessDecision = { readonly ok: true } | { readonly ok: false; readonly status: 401 | 403; readonly reason: string };

export function checkAccess(request: IncomingMessage, query: URLSearchParams, token: string, own: OwnAddress): AccessDecision {
  const origin = request.headers.origin;
  if (!isOriginAllowed(origin, own)) {
    return { ok: false, status: 403, reason: 'origin not allowed: only VS Code webviews, the agent\'s own page and non-browser clients may connect' };
  }
  const presented = presentedToken(request.headers, query);
  if (!tokenMatches(presented, token)) {
    return {
      ok: false,
      status: 401,
      reason:
        presented === undefined
          ? 'token required: pass ?token=…, an "Authorization: Bearer …" or an "X-Cumma-Token" header (the agent prints the token and keeps it in its config folder)'
          : 'wrong token',
    };
  }
  return { ok: true };
}
