// Hand-made traffic scripts for the recorder tests: small, with every feature the recorder must
// get right (TLS both ways, a large upload, a script close, UDP both ways with datagrams smaller
// than the GCM overhead, a UDP flow the server speaks first on, a handshake truth that differs
// from the message truth).

import { ScriptEndpoint, ScriptMessage, TrafficScript, TruthTag } from '../../agent/src/simulate/traffic-script';

export const TAGS = {
  chatSetup: { usage: 'other', session: 1, dialog: 1 },
  text: { usage: 'text', session: 1, dialog: 2 },
  photo: { usage: 'photo', session: 1, dialog: 3 },
  call: { usage: 'voice_call', session: 1, dialog: 4 },
  tilesSetup: { usage: 'other', session: 1, dialog: 5 },
  tiles: { usage: 'location', session: 1, dialog: 6 },
  push: { usage: 'other', session: 0, dialog: 1 },
} as const satisfies Record<string, TruthTag>;

const phone: ScriptEndpoint = { ip: '10.0.0.2', port: 40000 };
const server: ScriptEndpoint = { ip: '157.240.1.1', port: 443 };
const ms = 1000;

export const CALL_DATAGRAMS = 40;
/** Sizes of the call's datagrams, alternately up and down, every 20 ms. */
export const callSize = (i: number): number => 20 + i * 5;
export const TEXT_BYTES = 300;
export const TILE_BYTES = 5000;
export const PHOTO_BYTES = 400_000;
/** The push server's datagram, sent before the phone says anything on that flow. */
export const PUSH_BYTES = 60;

/** Five connections over 3 s of script time. */
export function mixedScript(): TrafficScript {
  const call: ScriptMessage[] = Array.from({ length: CALL_DATAGRAMS }, (_, i) => ({
    atUs: 2000 * ms + i * 20 * ms,
    connection: 2,
    direction: i % 2 === 0 ? 'up' : 'down',
    bytes: callSize(i),
    truth: TAGS.call,
  }));
  const messages: ScriptMessage[] = [
    { atUs: 200 * ms, connection: 0, direction: 'up', bytes: TEXT_BYTES, truth: TAGS.text },
    { atUs: 250 * ms, connection: 0, direction: 'down', bytes: 120, truth: TAGS.text },
    { atUs: 600 * ms, connection: 3, direction: 'down', bytes: TILE_BYTES, truth: TAGS.tiles },
    { atUs: 1100 * ms, connection: 1, direction: 'up', bytes: PHOTO_BYTES, truth: TAGS.photo },
    { atUs: 1500 * ms, connection: 1, direction: 'down', bytes: 200, truth: TAGS.photo },
    { atUs: 2600 * ms, connection: 4, direction: 'down', bytes: PUSH_BYTES, truth: TAGS.push },
    { atUs: 2650 * ms, connection: 4, direction: 'up', bytes: 80, truth: TAGS.push },
    ...call,
  ];
  return {
    connections: [
      { id: 0, kind: 'tls', purpose: 'chat', client: phone, server, openUs: 0, setupTruth: TAGS.chatSetup },
      { id: 1, kind: 'tls', purpose: 'media', client: phone, server, openUs: 1000 * ms, closeUs: 2000 * ms, setupTruth: TAGS.photo },
      { id: 2, kind: 'udp', purpose: 'call', client: phone, server, openUs: 2000 * ms, setupTruth: TAGS.call },
      { id: 3, kind: 'tls', purpose: 'tiles', client: phone, server, openUs: 500 * ms, closeUs: 800 * ms, setupTruth: TAGS.tilesSetup },
      { id: 4, kind: 'udp', purpose: 'push', client: phone, server, openUs: 2500 * ms, setupTruth: TAGS.push },
    ],
    messages: messages.sort((a, b) => a.atUs - b.atUs),
    durationUs: 3000 * ms,
  };
}

/** One chat connection with a message every 500 ms for `seconds`: long enough to interrupt. */
export function longChatScript(seconds: number): TrafficScript {
  const messages: ScriptMessage[] = [];
  for (let t = 500 * ms; t < seconds * 1000 * ms; t += 500 * ms) {
    messages.push({ atUs: t, connection: 0, direction: 'up', bytes: 200, truth: TAGS.text });
  }
  return {
    connections: [{ id: 0, kind: 'tls', purpose: 'chat', client: phone, server, openUs: 0, setupTruth: TAGS.chatSetup }],
    messages,
    durationUs: seconds * 1000 * ms,
  };
}
