/**
 * Checks a traffic script before any socket or capture starts, so a script the recorder cannot
 * replay is refused with its first fault named, instead of failing half-way through a capture.
 */
import { ScriptConnection, ScriptMessage, TrafficScript } from '../simulate/traffic-script';
import { MAX_UDP_PAYLOAD_BYTES } from './datagram-sealer';
import { RecordError } from './errors';

function bad(detail: string): RecordError {
  return new RecordError('RECORD_BAD_SCRIPT', detail);
}

function isTime(value: number): boolean {
  return Number.isFinite(value) && value >= 0;
}

/** Connections by id; throws RECORD_BAD_SCRIPT on the first fault. */
export function checkScript(script: TrafficScript): ReadonlyMap<number, ScriptConnection> {
  if (!isTime(script.durationUs)) throw bad(`durationUs must be a non-negative number, got ${script.durationUs}`);
  const byId = new Map<number, ScriptConnection>();
  for (const connection of script.connections) {
    const where = `connection ${connection.id}`;
    if (byId.has(connection.id)) throw bad(`${where} is defined twice`);
    if (connection.kind !== 'tls' && connection.kind !== 'udp') throw bad(`${where} has kind '${String(connection.kind)}'; expected tls or udp`);
    if (!isTime(connection.openUs)) throw bad(`${where} opens at ${connection.openUs} µs`);
    if (connection.closeUs !== undefined && !(isTime(connection.closeUs) && connection.closeUs >= connection.openUs)) {
      throw bad(`${where} closes at ${connection.closeUs} µs, before it opens at ${connection.openUs} µs`);
    }
    byId.set(connection.id, connection);
  }
  script.messages.forEach((message, index) => checkMessage(message, index, byId));
  return byId;
}

function checkMessage(message: ScriptMessage, index: number, byId: ReadonlyMap<number, ScriptConnection>): void {
  const where = `message ${index} (at ${message.atUs} µs)`;
  const connection = byId.get(message.connection);
  if (connection === undefined) throw bad(`${where} is on connection ${message.connection}, which the script does not define`);
  if (!isTime(message.atUs)) throw bad(`${where} has an invalid time`);
  if (message.direction !== 'up' && message.direction !== 'down') throw bad(`${where} has direction '${String(message.direction)}'; expected up or down`);
  if (!Number.isSafeInteger(message.bytes) || message.bytes < 1) throw bad(`${where} has ${message.bytes} bytes; expected a positive integer`);
  if (connection.kind === 'udp' && message.bytes > MAX_UDP_PAYLOAD_BYTES) {
    throw bad(`${where} is a ${message.bytes}-byte datagram; UDP carries at most ${MAX_UDP_PAYLOAD_BYTES}`);
  }
  if (connection.kind === 'tls' && connection.closeUs !== undefined && message.atUs > connection.closeUs) {
    throw bad(`${where} is sent on connection ${connection.id} after it closes at ${connection.closeUs} µs`);
  }
}
