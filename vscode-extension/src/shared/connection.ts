/** The state of the link to the agent, as the status bar, the panel and the editor show it. */
import { field, integer, oneOf, optionalString, record, string, type Json } from './guard';

export const CONNECTION_STATES = ['disconnected', 'connecting', 'connected', 'retrying', 'unauthorized'] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];

/**
 * Why an 'unauthorized' state: no token to offer is not the agent refusing one, and a page
 * whose origin the agent refuses would be refused whatever token it held.
 */
export const REFUSALS = ['no-token', 'token', 'origin'] as const;
export type Refusal = (typeof REFUSALS)[number];

export interface ConnectionStatus {
  readonly state: ConnectionState;
  /** The agent's address, without any token. */
  readonly url: string;
  /** Why the last attempt failed, when it did. */
  readonly detail?: string;
  /** When retrying: milliseconds until the next attempt. */
  readonly retryInMs?: number;
  /** When unauthorized: what was refused (absent: the token). */
  readonly refusal?: Refusal;
}

/** An agent on this machine: its capture paths and folders are this machine's. */
export function isLoopback(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** Whether the agent at `url` (a status's) runs on this machine; false for one that is no URL. */
export function agentOnThisMachine(url: string): boolean {
  try {
    return isLoopback(new URL(url));
  } catch {
    return false;
  }
}

export function parseConnectionStatus(value: Json, path = 'status'): ConnectionStatus {
  const object = record(value, path);
  const detail = optionalString(field(object, 'detail'), `${path}.detail`, 2048);
  const retry = field(object, 'retryInMs');
  const refusal = field(object, 'refusal');
  return {
    state: oneOf(field(object, 'state'), `${path}.state`, CONNECTION_STATES),
    url: string(field(object, 'url'), `${path}.url`, 2048),
    ...(detail !== undefined ? { detail } : {}),
    ...(retry !== undefined ? { retryInMs: integer(retry, `${path}.retryInMs`, 0) } : {}),
    ...(refusal !== undefined ? { refusal: oneOf(refusal, `${path}.refusal`, REFUSALS) } : {}),
  };
}

export function describeConnection(status: ConnectionStatus): string {
  switch (status.state) {
    case 'connected':
      return `connected to ${status.url}`;
    case 'connecting':
      return `connecting to ${status.url}…`;
    case 'retrying':
      return `agent not reachable at ${status.url}${retryText(status.retryInMs)}`;
    case 'unauthorized':
      if (status.refusal === 'no-token') return `no token for the agent at ${status.url}`;
      if (status.refusal === 'origin') return `the agent at ${status.url} refused this page's origin`;
      return `the agent at ${status.url} refused the token`;
    case 'disconnected':
      return 'disconnected';
  }
}


/** "; retrying in 3 s" while seconds are left (rounded up), "; retrying now" once the delay is over. */
function retryText(retryInMs: number | undefined): string {
  if (retryInMs === undefined) return '';
  return retryInMs > 0 ? `; retrying in ${Math.ceil(retryInMs / 1000)} s` : '; retrying now…';
}

/**
 * The status as it stands `elapsedMs` after it was set: a retry delay counts down (never below
 * zero); any other status is unchanged. A status kept and sent again later (to a panel that
 * reloads) must not announce the whole delay afresh.
 */
export function statusAfter(status: ConnectionStatus, elapsedMs: number): ConnectionStatus {
  if (status.state !== 'retrying' || status.retryInMs === undefined) return status;
  return { ...status, retryInMs: Math.max(0, Math.round(status.retryInMs - Math.max(0, elapsedMs))) };
}
