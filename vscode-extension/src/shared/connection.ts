/** The state of the link to the agent, as the status bar, the panel and the editor show it. */
import { field, integer, oneOf, optionalString, record, string, type Json } from './guard';

export const CONNECTION_STATES = ['disconnected', 'connecting', 'connected', 'retrying', 'unauthorized'] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];

export interface ConnectionStatus {
  readonly state: ConnectionState;
  /** The agent's address, without any token. */
  readonly url: string;
  /** Why the last attempt failed, when it did. */
  readonly detail?: string;
  /** When retrying: milliseconds until the next attempt. */
  readonly retryInMs?: number;
}

export function parseConnectionStatus(value: Json, path = 'status'): ConnectionStatus {
  const object = record(value, path);
  const detail = optionalString(field(object, 'detail'), `${path}.detail`, 2048);
  const retry = field(object, 'retryInMs');
  return {
    state: oneOf(field(object, 'state'), `${path}.state`, CONNECTION_STATES),
    url: string(field(object, 'url'), `${path}.url`, 2048),
    ...(detail !== undefined ? { detail } : {}),
    ...(retry !== undefined ? { retryInMs: integer(retry, `${path}.retryInMs`, 0) } : {}),
  };
}

export function describeConnection(status: ConnectionStatus): string {
  switch (status.state) {
    case 'connected':
      return `connected to ${status.url}`;
    case 'connecting':
      return `connecting to ${status.url}…`;
    case 'retrying':
      return `agent not reachable at ${status.url}${status.retryInMs !== undefined ? `; retrying in ${Math.ceil(status.retryInMs / 1000)} s` : ''}`;
    case 'unauthorized':
      return `the agent at ${status.url} refused the token`;
    case 'disconnected':
      return 'disconnected';
  }
}

