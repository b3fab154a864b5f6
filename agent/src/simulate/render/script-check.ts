/**
 * Checks a traffic script before rendering, so a bad script fails with a message naming the
 * connection or message instead of producing a broken capture, and parses its addresses once.
 */
import { isUsageClass } from '../../labels';
import { ScriptConnection, TrafficScript, TruthTag } from '../traffic-script';
import { parseAddress } from './addresses';
import { ConnectionAddresses } from './simulation-context';
import { maxUdpPayload } from './udp-connection';
import { udpPayloadProblem, udpPayloadShape } from './udp-payloads';

export interface CheckedScript {
  /** Connections in script order, with parsed addresses; `byId` maps ids to positions. */
  readonly connections: readonly ScriptConnection[];
  readonly addresses: readonly ConnectionAddresses[];
  readonly byId: ReadonlyMap<number, number>;
}

function isTime(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

function checkTruth(tag: TruthTag, where: string): void {
  if (!isUsageClass(tag.usage)) throw new RangeError(`${where}: usage '${String(tag.usage)}' is not a usage class`);
  for (const key of ['session', 'dialog'] as const) {
    if (!Number.isSafeInteger(tag[key]) || tag[key] < 0) throw new RangeError(`${where}: ${key} must be a non-negative integer, got ${String(tag[key])}`);
  }
}

function checkPort(port: number, where: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`${where}: port must be an integer in 1..65535, got ${String(port)}`);
}

export function checkScript(script: TrafficScript): CheckedScript {
  const byId = new Map<number, number>();
  const addresses: ConnectionAddresses[] = [];
  script.connections.forEach((c, position) => {
    const where = `connection ${String(c.id)}`;
    if (!Number.isSafeInteger(c.id) || c.id < 0) throw new RangeError(`${where}: id must be a non-negative integer`);
    if (byId.has(c.id)) throw new RangeError(`${where}: id used twice`);
    byId.set(c.id, position);
    if (c.kind !== 'tls' && c.kind !== 'udp') throw new RangeError(`${where}: kind must be 'tls' or 'udp', got '${String(c.kind)}'`);
    checkPort(c.client.port, `${where} client`);
    checkPort(c.server.port, `${where} server`);
    const client = parseAddress(c.client.ip, `${where} client`);
    const server = parseAddress(c.server.ip, `${where} server`);
    if (client.bytes.length !== server.bytes.length) throw new RangeError(`${where}: client ${c.client.ip} and server ${c.server.ip} are not of one IP version`);
    if (!isTime(c.openUs)) throw new RangeError(`${where}: openUs must be a non-negative integer, got ${String(c.openUs)}`);
    if (c.closeUs !== undefined && !(isTime(c.closeUs) && c.closeUs > c.openUs)) {
      throw new RangeError(`${where}: closeUs must be an integer after openUs ${c.openUs}, got ${String(c.closeUs)}`);
    }
    checkTruth(c.setupTruth, `${where} setupTruth`);
    addresses.push({ client, server, ipv6: client.bytes.length === 16 });
  });

  let previousUs = 0;
  script.messages.forEach((m, i) => {
    const where = `message ${i} (at ${String(m.atUs)} µs)`;
    if (!isTime(m.atUs)) throw new RangeError(`${where}: atUs must be a non-negative integer`);
    if (m.atUs < previousUs) throw new RangeError(`${where}: messages must be sorted by atUs (previous at ${previousUs} µs)`);
    previousUs = m.atUs;
    const position = byId.get(m.connection);
    if (position === undefined) throw new RangeError(`${where}: no connection ${String(m.connection)}`);
    const c = script.connections[position]!;
    if (m.atUs < c.openUs) throw new RangeError(`${where}: before connection ${c.id} opens at ${c.openUs} µs`);
    if (c.closeUs !== undefined && m.atUs >= c.closeUs) throw new RangeError(`${where}: not before connection ${c.id} closes at ${c.closeUs} µs`);
    if (m.direction !== 'up' && m.direction !== 'down') throw new RangeError(`${where}: direction must be 'up' or 'down'`);
    if (!Number.isSafeInteger(m.bytes) || m.bytes < 1) throw new RangeError(`${where}: bytes must be a positive integer, got ${String(m.bytes)}`);
    checkTruth(m.truth, where);
    if (c.kind === 'udp') {
      const limit = maxUdpPayload(addresses[position]!.ipv6);
      if (m.bytes > limit) throw new RangeError(`${where}: a ${m.bytes}-byte datagram exceeds ${limit} bytes, the most one unfragmented packet carries`);
      const problem = udpPayloadProblem(udpPayloadShape(c.purpose, c.server.port), m.bytes, m.direction === 'up');
      if (problem !== undefined) throw new RangeError(`${where}: port ${c.server.port}: ${problem}`);
    }
  });
  if (!isTime(script.durationUs)) throw new RangeError(`durationUs must be a non-negative integer, got ${String(script.durationUs)}`);
  return { connections: script.connections, addresses, byId };
}
