/**
 * Validation of client messages (text frames) into the protocol's ClientMessage types. Everything
 * a client sends is untrusted: any JSON value, any field type, any size up to the frame limit.
 * The result is either a well-typed message or the error code and text to reply with.
 */
import { isAbsolute } from 'node:path';
import { ClientMessage, ErrorCode, PROTOCOL_VERSION } from './protocol';

/** Most capture names in one subscribe. */
export const MAX_SUBSCRIBED_CAPTURES = 1000;
/** Longest capture name, watch path and ping id accepted (characters). */
export const MAX_NAME_LENGTH = 1024;
export const MAX_PATH_LENGTH = 4096;
export const MAX_PING_ID_LENGTH = 256;

export type ParsedClientMessage =
  | { readonly ok: true; readonly message: ClientMessage }
  | { readonly ok: false; readonly code: ErrorCode; readonly error: string };

export function parseClientMessage(text: string): ParsedClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return fail('BAD_JSON', `not valid JSON: ${shorten((error as Error).message, 160)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('BAD_MESSAGE', `a message must be a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`);
  }
  const record = value as Record<string, unknown>;
  if (typeof record.type !== 'string') return fail('BAD_MESSAGE', 'field "type" must be a string');
  if (record.v !== PROTOCOL_VERSION) {
    if (typeof record.v === 'number') return fail('UNSUPPORTED_VERSION', `protocol version ${String(record.v)} is not supported; this agent speaks v ${PROTOCOL_VERSION}`);
    return fail('BAD_MESSAGE', `field "v" must be the protocol version, ${PROTOCOL_VERSION}`);
  }
  switch (record.type) {
    case 'subscribe':
      return parseSubscribe(record.captures);
    case 'unsubscribe':
      return { ok: true, message: { v: 1, type: 'unsubscribe' } };
    case 'watch':
      return parseWatch(record.path);
    case 'ping':
      return parsePing(record.id);
    default:
      return fail('UNKNOWN_TYPE', `unknown message type "${shorten(record.type)}"; expected subscribe, unsubscribe, watch or ping`);
  }
}

function parseSubscribe(captures: unknown): ParsedClientMessage {
  if (captures === '*') return { ok: true, message: { v: 1, type: 'subscribe', captures: '*' } };
  if (!Array.isArray(captures)) return fail('BAD_MESSAGE', 'subscribe: field "captures" must be "*" or an array of capture names');
  if (captures.length > MAX_SUBSCRIBED_CAPTURES) return fail('BAD_MESSAGE', `subscribe: at most ${MAX_SUBSCRIBED_CAPTURES} captures, got ${captures.length}`);
  const names: string[] = [];
  for (const name of captures) {
    if (typeof name !== 'string' || name === '' || name.length > MAX_NAME_LENGTH) {
      return fail('BAD_MESSAGE', `subscribe: every capture name must be a non-empty string of at most ${MAX_NAME_LENGTH} characters`);
    }
    names.push(name);
  }
  return { ok: true, message: { v: 1, type: 'subscribe', captures: names } };
}

function parseWatch(path: unknown): ParsedClientMessage {
  if (typeof path !== 'string' || path === '' || path.length > MAX_PATH_LENGTH) {
    return fail('BAD_MESSAGE', `watch: field "path" must be a non-empty string of at most ${MAX_PATH_LENGTH} characters`);
  }
  if (path.includes('\0')) return fail('BAD_MESSAGE', 'watch: field "path" must not contain NUL');
  if (!isAbsolute(path)) return fail('BAD_MESSAGE', 'watch: field "path" must be an absolute path on the agent\'s machine');
  return { ok: true, message: { v: 1, type: 'watch', path } };
}

function parsePing(id: unknown): ParsedClientMessage {
  if (id === undefined) return { ok: true, message: { v: 1, type: 'ping' } };
  if ((typeof id === 'string' && id.length <= MAX_PING_ID_LENGTH) || (typeof id === 'number' && Number.isFinite(id))) {
    return { ok: true, message: { v: 1, type: 'ping', id } };
  }
  return fail('BAD_MESSAGE', `ping: field "id" must be a finite number or a string of at most ${MAX_PING_ID_LENGTH} characters`);
}

function fail(code: ErrorCode, error: string): ParsedClientMessage {
  return { ok: false, code, error };
}

/** Client text echoed in an error is cut short: replies must stay small whatever was sent. */
function shorten(text: string, length = 64): string {
  return text.length > length ? `${text.slice(0, length)}…` : text;
}
