// The renderer's byte-level pieces on their own: addresses, TLS records in the stream, DNS/NTP/
// STUN/RTP payloads, and the event clock.

import { describe, expect, it } from 'vitest';
import { Prng } from '../../../agent/src/common/prng';
import { parseAddress } from '../../../agent/src/simulate/render/addresses';
import { EventQueue } from '../../../agent/src/simulate/render/event-queue';
import {
  applicationRecordLengths,
  applicationWireBytes,
  buildClientHello,
  buildServerHello,
  CLIENT_HELLO_BYTES,
  SERVER_HELLO_BYTES,
  TlsStreamLayout,
} from '../../../agent/src/simulate/render/tls-stream';
import { datagramShape, udpPayloadProblem, udpPayloadShape, writeDnsMessage, writeNtpMessage, writeStunMessage } from '../../../agent/src/simulate/render/udp-payloads';

describe('parseAddress', () => {
  it('reads IPv4 and IPv6 and gives the text cumma flows prints', () => {
    expect(parseAddress('192.0.2.1', 'x')).toEqual({ bytes: Uint8Array.of(192, 0, 2, 1), text: '192.0.2.1' });
    expect(parseAddress('2001:DB8:0:0:0:0:0:1', 'x').text).toBe('2001:db8::1');
    expect(parseAddress('::ffff:192.0.2.1', 'x').text).toBe('::ffff:192.0.2.1');
    expect(parseAddress('::ffff:192.0.2.1', 'x').bytes.slice(10)).toEqual(Uint8Array.of(0xff, 0xff, 192, 0, 2, 1));
    expect(parseAddress('fe80::1:2', 'x').bytes).toHaveLength(16);
  });

  it.each(['20.10.45', '256.1.1.1', '01.2.3.4', '1::2::3', '1:2:3:4:5:6:7:8:9', 'host.example', ''])('refuses %j, naming what it is', (text) => {
    expect(() => parseAddress(text, 'connection 3 server')).toThrow(`connection 3 server: '${text}' is not an IPv4 or IPv6 address`);
  });
});

describe('TLS records', () => {
  it('cuts messages into records of at most 16 KiB plaintext plus 22 bytes', () => {
    expect(applicationRecordLengths(1)).toEqual([23]);
    expect(applicationRecordLengths(16_384)).toEqual([16_406]);
    expect(applicationRecordLengths(40_000)).toEqual([16_406, 16_406, 7_254]);
    expect(applicationWireBytes(40_000)).toBe(40_066);
  });

  it('builds a 517-byte ClientHello whose length fields add up', () => {
    const hello = buildClientHello(new Prng(1));
    expect(hello.length).toBe(CLIENT_HELLO_BYTES);
    const view = new DataView(hello.buffer);
    expect([hello[0], view.getUint16(3)]).toEqual([0x16, 512]);
    expect([hello[5], (hello[6]! << 16) | view.getUint16(7)]).toEqual([1, 508]);
    // Walk to the extensions and check they end exactly at the end of the record.
    let o = 9 + 2 + 32;
    o += 1 + hello[o]!; // session id
    o += 2 + view.getUint16(o); // cipher suites
    o += 1 + hello[o]!; // compression
    const extensionsEnd = o + 2 + view.getUint16(o);
    o += 2;
    const types: number[] = [];
    while (o < extensionsEnd) {
      types.push(view.getUint16(o));
      o += 4 + view.getUint16(o + 2);
    }
    expect(o).toBe(CLIENT_HELLO_BYTES);
    expect(types).toContain(0x002b); // supported_versions
    expect(types.at(-1)).toBe(0x0015); // padding last
    expect(buildServerHello(new Prng(1), 0x1302).length).toBe(SERVER_HELLO_BYTES);
  });

  it('paints record headers where they fall in the stream, and the same bytes again for a retransmission', () => {
    const layout = new TlsStreamLayout(77);
    layout.addCleartext(buildClientHello(new Prng(2)));
    for (const length of applicationRecordLengths(20_000)) layout.addEncrypted(length);
    expect(layout.end).toBe(1 + 517 + 20_044);
    const whole = new Uint8Array(layout.end - 1);
    layout.paint(whole, 0, 1, whole.length);
    expect(whole.subarray(0, 5)).toEqual(Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00));
    // Body of a full record: 16 384 plaintext + 1 content type + 16 tag = 16 401 = 0x4011.
    expect(whole.subarray(517, 522)).toEqual(Uint8Array.of(0x17, 0x03, 0x03, 0x40, 0x11));
    const second = 517 + 16_406;
    expect(whole.subarray(second, second + 5)).toEqual(Uint8Array.of(0x17, 0x03, 0x03, (3_638 - 5) >> 8, (3_638 - 5) & 0xff));
    // Any cut of the stream into segments gives the same bytes.
    for (const [start, length] of [[1, 1388], [500, 30], [16_900, 1448], [second - 2, 9]] as const) {
      const segment = new Uint8Array(length);
      layout.paint(segment, 0, start, length);
      expect(segment).toEqual(whole.subarray(start - 1, start - 1 + length));
    }
  });
});

describe('datagram payloads', () => {
  it('picks the shape Wireshark expects on the port, else by purpose', () => {
    expect(udpPayloadShape('background', 53)).toBe('dns');
    expect(udpPayloadShape('dns', 5353)).toBe('dns');
    expect(udpPayloadShape('ntp', 123)).toBe('ntp');
    expect(udpPayloadShape('stun', 3478)).toBe('stun');
    expect(udpPayloadShape('call', 1400)).toBe('rtp');
    expect(udpPayloadShape('background', 3478)).toBe('rtp');
    expect(udpPayloadShape('push', 443)).toBe('filler');
    expect(datagramShape('stun', 97)).toBe('rtp');
    expect(datagramShape('stun', 108)).toBe('stun');
    expect(datagramShape('rtp', 8)).toBe('filler');
  });

  it('writes DNS messages of exactly the asked size, names and counts consistent', () => {
    for (const up of [true, false]) {
      for (let length = 17; length <= 600; length++) {
        if (length === 18) continue;
        const out = new Uint8Array(length + 8).fill(0xee);
        writeDnsMessage(out, 4, length, up, 0x1234, length);
        expect(out[3]).toBe(0xee); // nothing before
        expect(out[4 + length]).toBe(0xee); // nothing after
        const view = new DataView(out.buffer, 4, length);
        let o = 12;
        while (view.getUint8(o) !== 0) o += 1 + view.getUint8(o);
        o += 1 + 4;
        if (view.getUint16(6) === 1) o += 16;
        if (view.getUint16(10) === 1) o += 11 + view.getUint16(o + 9);
        expect(o, `length ${length} ${up ? 'query' : 'answer'}`).toBe(length);
      }
    }
    expect(udpPayloadProblem('dns', 18, true)).toMatch(/cannot be exactly 18 bytes/);
    expect(() => writeDnsMessage(new Uint8Array(40), 0, 10, true, 1, 1)).toThrow(/cannot be exactly 10 bytes/);
  });

  it('writes NTP and STUN headers', () => {
    const ntp = new Uint8Array(48);
    writeNtpMessage(ntp, 0, 48, true, 3);
    expect([ntp[0], ntp[1]]).toEqual([0x23, 0]);
    expect(udpPayloadProblem('ntp', 50, true)).toMatch(/NTP message is 48 bytes/);
    const stun = new Uint8Array(28);
    writeStunMessage(stun, 0, 28, false, 0xabcdef01);
    expect([...stun.subarray(0, 8)]).toEqual([0x01, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42]);
    expect([...stun.subarray(20, 24)]).toEqual([0x00, 0x26, 0x00, 0x04]);
  });
});

describe('EventQueue', () => {
  it('runs actions in time order, ties in scheduling order, and refuses the past', () => {
    const queue = new EventQueue();
    const order: string[] = [];
    queue.at(20, () => order.push('b'));
    queue.at(10, () => {
      order.push('a');
      queue.at(20, () => order.push('d'));
    });
    queue.at(20, () => order.push('c'));
    while (queue.runNext()) {
      // drain
    }
    expect(order).toEqual(['a', 'b', 'c', 'd']);
    expect(queue.now).toBe(20);
    expect(() => queue.at(19, () => undefined)).toThrow('event at 19 µs scheduled while the clock is at 20 µs');
  });
});
