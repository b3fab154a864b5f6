/**
 * Validation of protocol v1 messages (agent/src/serve/protocol.ts) in both directions. Whatever
 * arrives from the agent or from a webview goes through here before anything else reads it:
 * the result is a fresh object with only the known fields, or a GuardError.
 */
import type { AgentStats, CaptureInfo, CaptureLag, CaptureState, FolderEvent, FolderInfo, FolderState, LiveDialog, ModelInfo } from '../../../agent/src/live/label-feed';
import type { ClientMessage, ErrorCode, ServerMessage } from '../../../agent/src/serve/protocol';
import { USAGE_CLASSES, type UsageClass, type UsageVerdict } from '../../../agent/src/labels';
import { GuardError, array, boolean, fail, field, integer, number, oneOf, optionalId, optionalString, record, string, type Json } from './guard';

/** A dialog as the panel holds it: the protocol's LiveDialog plus its main features when an agent sends them. */
export interface PanelDialog extends LiveDialog {
  readonly features?: Readonly<Record<string, number>>;
}

export const USAGE_VERDICTS: readonly UsageVerdict[] = [...USAGE_CLASSES, 'unknown'];
const CAPTURE_STATES: readonly CaptureState[] = ['reading', 'idle', 'error', 'removed'];
const CAPTURE_EVENTS = ['added', 'removed', 'error', 'updated', 'restarted'] as const;
/**
 * Folder events and states are open sets (docs/protocol.md, Versioning): an agent newer than this
 * client may send values it does not know, and rejecting the whole message would drop the folder's
 * entry and its text with it. Any short lower-case word passes, as it is; the client acts only on
 * the values it knows (a folder in an unknown state is not shown as missing).
 */
function openValue<T extends string>(value: Json, path: string): T {
  const text = string(value, path, 32);
  if (!/^[a-z][a-z0-9-]*$/.test(text)) fail(path, 'expected a lower-case word such as missing');
  return text as T;
}

/** Error codes are an open set (agents add codes): any short upper-case identifier passes. */
function errorCode(value: Json, path: string): ErrorCode {
  const code = string(value, path, 64);
  if (!/^[A-Z][A-Z0-9_]*$/.test(code)) fail(path, 'expected an error code such as BAD_MESSAGE');
  return code as ErrorCode;
}

/** Upper bounds that keep a hostile or broken peer from making us allocate without limit. */
export const LIMITS = {
  captures: 100_000,
  folders: 10_000,
  snapshotDialogs: 5_000_000,
  features: 512,
  name: 1024,
  path: 4096,
  message: 8192,
  ip: 64,
  id: 2048,
} as const;

/** Scores and confidences are probabilities; tolerate rounding just outside [0, 1]. */
function probability(value: Json, path: string): number {
  const result = number(value, path, -1e-6, 1 + 1e-6);
  return Math.min(1, Math.max(0, result));
}

const count = (value: Json, path: string): number => integer(value, path, 0);
const micros = (value: Json, path: string): number => number(value, path, 0);

function endpoint(value: Json, path: string): { ip: string; port: number } {
  const object = record(value, path);
  return { ip: string(field(object, 'ip'), `${path}.ip`, LIMITS.ip), port: integer(field(object, 'port'), `${path}.port`, 0, 65535) };
}

function directions(value: Json, path: string): { up: number; down: number } {
  const object = record(value, path);
  return { up: count(field(object, 'up'), `${path}.up`), down: count(field(object, 'down'), `${path}.down`) };
}

function scores(value: Json, path: string): Partial<Record<UsageClass, number>> {
  const object = record(value, path);
  const result: Partial<Record<UsageClass, number>> = {};
  for (const key of Object.keys(object)) {
    const usage = oneOf(key, `${path} key`, USAGE_CLASSES);
    result[usage] = probability(object[key], `${path}.${key}`);
  }
  return result;
}

function features(value: Json, path: string): Record<string, number> {
  const object = record(value, path);
  const keys = Object.keys(object);
  if (keys.length > LIMITS.features) fail(path, `more than ${LIMITS.features} features`);
  // A prototype-free object: feature names are data, never property lookups on Object.prototype.
  const result = Object.create(null) as Record<string, number>;
  for (const key of keys) result[string(key, `${path} key`, 128)] = number(object[key], `${path}.${key}`);
  return result;
}

export function parseDialog(value: Json, path = 'dialog'): PanelDialog {
  const object = record(value, path);
  const at = (key: string): Json => field(object, key);
  const dialog: PanelDialog = {
    id: string(at('id'), `${path}.id`, LIMITS.id),
    capture: string(at('capture'), `${path}.capture`, LIMITS.name),
    l4: oneOf(at('l4'), `${path}.l4`, ['tcp', 'udp'] as const),
    client: endpoint(at('client'), `${path}.client`),
    server: endpoint(at('server'), `${path}.server`),
    firstUs: micros(at('firstUs'), `${path}.firstUs`),
    lastUs: micros(at('lastUs'), `${path}.lastUs`),
    packets: directions(at('packets'), `${path}.packets`),
    bytes: directions(at('bytes'), `${path}.bytes`),
    session: count(at('session'), `${path}.session`),
    dialog: count(at('dialog'), `${path}.dialog`),
    startUs: micros(at('startUs'), `${path}.startUs`),
    endUs: micros(at('endUs'), `${path}.endUs`),
    usage: oneOf(at('usage'), `${path}.usage`, USAGE_VERDICTS),
    confidence: probability(at('confidence'), `${path}.confidence`),
    scores: scores(at('scores'), `${path}.scores`),
    status: oneOf(at('status'), `${path}.status`, ['final', 'provisional'] as const),
    outlier: boolean(at('outlier'), `${path}.outlier`),
    model: string(at('model'), `${path}.model`, LIMITS.name),
    ...(at('features') !== undefined ? { features: features(at('features'), `${path}.features`) } : {}),
  };
  if (dialog.endUs < dialog.startUs) fail(`${path}.endUs`, 'before startUs');
  return dialog;
}

export function parseCaptureInfo(value: Json, path = 'capture'): CaptureInfo {
  const object = record(value, path);
  const at = (key: string): Json => field(object, key);
  const error = optionalString(at('error'), `${path}.error`, LIMITS.message);
  const warning = optionalString(at('warning'), `${path}.warning`, LIMITS.message);
  return {
    name: string(at('name'), `${path}.name`, LIMITS.name),
    path: string(at('path'), `${path}.path`, LIMITS.path),
    state: oneOf(at('state'), `${path}.state`, CAPTURE_STATES),
    sizeBytes: count(at('sizeBytes'), `${path}.sizeBytes`),
    bytesRead: count(at('bytesRead'), `${path}.bytesRead`),
    packets: count(at('packets'), `${path}.packets`),
    dialogs: count(at('dialogs'), `${path}.dialogs`),
    ...(error !== undefined ? { error } : {}),
    ...(warning !== undefined ? { warning } : {}),
  };
}

export function parseFolderInfo(value: Json, path = 'folder'): FolderInfo {
  const object = record(value, path);
  return {
    path: string(field(object, 'path'), `${path}.path`, LIMITS.path),
    state: openValue<FolderState>(field(object, 'state'), `${path}.state`),
  };
}

export function parseModelInfo(value: Json, path = 'model'): ModelInfo {
  const object = record(value, path);
  const gaps = record(field(object, 'gaps'), `${path}.gaps`);
  return {
    name: string(field(object, 'name'), `${path}.name`, LIMITS.name),
    classes: array(field(object, 'classes'), `${path}.classes`, USAGE_CLASSES.length, (item, at) => oneOf(item, at, USAGE_CLASSES)),
    gaps: { sessionGapUs: micros(field(gaps, 'sessionGapUs'), `${path}.gaps.sessionGapUs`), dialogGapUs: micros(field(gaps, 'dialogGapUs'), `${path}.gaps.dialogGapUs`) },
  };
}

function parseLag(value: Json, path: string): CaptureLag {
  const object = record(value, path);
  return {
    name: string(field(object, 'name'), `${path}.name`, LIMITS.name),
    lagBytes: count(field(object, 'lagBytes'), `${path}.lagBytes`),
    lagMs: number(field(object, 'lagMs'), `${path}.lagMs`, 0),
  };
}

export function parseStats(object: Readonly<Record<string, Json>>, path = 'stats'): AgentStats {
  return {
    packetsPerSecond: number(field(object, 'packetsPerSecond'), `${path}.packetsPerSecond`, 0),
    packets: count(field(object, 'packets'), `${path}.packets`),
    dialogs: count(field(object, 'dialogs'), `${path}.dialogs`),
    captures: array(field(object, 'captures'), `${path}.captures`, LIMITS.captures, parseLag),
  };
}

function version(object: Readonly<Record<string, Json>>, path: string): 1 {
  if (field(object, 'v') !== 1) fail(`${path}.v`, 'expected protocol version 1');
  return 1;
}

export type ServerMessageOf<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

/** A server message, validated; throws GuardError. Unknown types are errors too: callers log and drop them. */
export function parseServerMessage(value: Json): ServerMessage {
  const object = record(value, 'message');
  const v = version(object, 'message');
  const type = string(field(object, 'type'), 'message.type', 32);
  switch (type) {
    case 'hello':
      if (field(object, 'protocol') !== 1) fail('hello.protocol', 'expected protocol 1');
      return {
        v,
        type,
        agent: string(field(object, 'agent'), 'hello.agent', LIMITS.name),
        protocol: 1,
        model: parseModelInfo(field(object, 'model'), 'hello.model'),
        captures: array(field(object, 'captures'), 'hello.captures', LIMITS.captures, parseCaptureInfo),
        // Agents before folder states sent none.
        folders: field(object, 'folders') === undefined ? [] : array(field(object, 'folders'), 'hello.folders', LIMITS.folders, parseFolderInfo),
        anonymized: boolean(field(object, 'anonymized'), 'hello.anonymized'),
      };
    case 'snapshot':
      return {
        v,
        type,
        captures: array(field(object, 'captures'), 'snapshot.captures', LIMITS.captures, (item, at) => string(item, at, LIMITS.name)),
        dialogs: array(field(object, 'dialogs'), 'snapshot.dialogs', LIMITS.snapshotDialogs, parseDialog),
      };
    case 'dialog':
      return { v, type, dialog: parseDialog(field(object, 'dialog'), 'dialog') };
    case 'capture': {
      const message = optionalString(field(object, 'message'), 'capture.message', LIMITS.message);
      return {
        v,
        type,
        event: oneOf(field(object, 'event'), 'capture.event', CAPTURE_EVENTS),
        capture: parseCaptureInfo(field(object, 'capture'), 'capture.capture'),
        ...(message !== undefined ? { message } : {}),
      };
    }
    case 'folder':
      return {
        v,
        type,
        event: openValue<FolderEvent>(field(object, 'event'), 'folder.event'),
        folder: parseFolderInfo(field(object, 'folder'), 'folder.folder'),
        message: string(field(object, 'message'), 'folder.message', LIMITS.message),
      };
    case 'stats':
      return { v, type, ...parseStats(object) };
    case 'error':
      return {
        v,
        type,
        code: errorCode(field(object, 'code'), 'error.code'),
        message: string(field(object, 'message'), 'error.message', LIMITS.message),
      };
    case 'pong': {
      const id = optionalId(field(object, 'id'), 'pong.id');
      return id === undefined ? { v, type } : { v, type, id };
    }
    default:
      throw new GuardError('message.type', `unknown message type '${type.slice(0, 32)}'`);
  }
}

/** A client message, validated (what a webview asks the extension host to send, or what we send). */
export function parseClientMessage(value: Json): ClientMessage {
  const object = record(value, 'message');
  const v = version(object, 'message');
  const type = string(field(object, 'type'), 'message.type', 32);
  switch (type) {
    case 'subscribe': {
      const captures = field(object, 'captures');
      return {
        v,
        type,
        captures: captures === '*' ? '*' : array(captures, 'subscribe.captures', 10_000, (item, at) => string(item, at, LIMITS.name)),
      };
    }
    case 'unsubscribe':
      return { v, type };
    case 'watch': {
      const path = string(field(object, 'path'), 'watch.path', LIMITS.path);
      if (path.length === 0) fail('watch.path', 'empty');
      return { v, type, path };
    }
    case 'ping': {
      const id = optionalId(field(object, 'id'), 'ping.id');
      return id === undefined ? { v, type } : { v, type, id };
    }
    default:
      throw new GuardError('message.type', `unknown message type '${type.slice(0, 32)}'`);
  }
}

/** Parses one WebSocket text frame from the agent. */
export function parseServerFrame(text: string): ServerMessage {
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new GuardError('message', 'not JSON');
  }
  return parseServerMessage(json);
}
