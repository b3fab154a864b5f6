// The tshark reference's pure parts: packet classification, fragment attribution, cumma jsonl
// aggregation and the comparer. If these were wrong, the agreement tests could pass vacuously.

import { describe, expect, it } from 'vitest';
import { canonicalIp, isRfc5952 } from '../../scripts/lib/ip-format';
import {
  ReferenceBuilder,
  TSHARK_FIELDS,
  aggregateCummaJsonl,
  classifyPacket,
  compareAggregates,
  epochToMicros,
  orientTuple,
  parseTsharkLine,
  type TsharkRow,
} from '../../scripts/lib/tshark-flows';

function row(fields: Partial<TsharkRow>): TsharkRow {
  const base = Object.fromEntries(TSHARK_FIELDS.map((f) => [f, ''])) as TsharkRow;
  return { ...base, 'frame.number': '1', 'frame.len': '100', 'frame.time_epoch': '1700000000.000001000', ...fields };
}

const udp4 = (src: string, dst: string, sport: number, dport: number, extra: Partial<TsharkRow> = {}): TsharkRow =>
  row({
    'frame.protocols': 'eth:ethertype:ip:udp:data',
    'ip.src': src,
    'ip.dst': dst,
    'ip.proto': '17',
    'ip.id': '0x0001',
    'ip.frag_offset': '0',
    'ip.flags.mf': '0',
    'udp.srcport': String(sport),
    'udp.dstport': String(dport),
    ...extra,
  });

describe('ip-format', () => {
  it('gives one spelling per IPv6 address', () => {
    expect(canonicalIp('2001:0DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(canonicalIp('::ffff:10.0.0.1')).toBe('::ffff:a00:1');
    expect(canonicalIp('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(canonicalIp('1:0:2:3:4:5:6:7')).toBe('1:0:2:3:4:5:6:7');
    expect(canonicalIp('010.0.0.1')).toBe('10.0.0.1');
  });

  it('accepts RFC 5952 text (and mixed IPv4-mapped) only', () => {
    expect(isRfc5952('2001:db8::1')).toBe(true);
    expect(isRfc5952('::ffff:10.0.0.1')).toBe(true);
    expect(isRfc5952('2001:DB8::1')).toBe(false);
    expect(isRfc5952('2001:db8:0:0:0:0:0:1')).toBe(false);
    expect(isRfc5952('2001:db8::0:1')).toBe(false);
  });
});

describe('classifyPacket', () => {
  it('takes the outermost TCP/UDP as the flow', () => {
    expect(classifyPacket(udp4('10.0.0.1', '10.0.0.2', 1, 2))).toMatchObject({ kind: 'flow', l4: 'udp' });
  });

  it('does not count ICMP errors quoting a UDP header', () => {
    const quoted = udp4('10.0.0.2', '10.0.0.1', 1, 2, { 'frame.protocols': 'eth:ethertype:ip:icmp:ip:udp' });
    expect(classifyPacket(quoted)).toEqual({ kind: 'icmp', quotes: true });
  });

  it('reports a UDP tunnel with its outer tuple', () => {
    const vxlan = udp4('10.0.0.1', '10.0.0.2', 5000, 4789, { 'frame.protocols': 'eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:tcp' });
    expect(classifyPacket(vxlan)).toMatchObject({ kind: 'tunnel', outer: { l4: 'udp', dst: { port: 4789 } } });
  });

  it('leaves out link paths cumma does not decode', () => {
    const ppp = udp4('10.0.0.1', '10.0.0.2', 1, 2, { 'frame.protocols': 'ppp:ip:udp' });
    expect(classifyPacket(ppp)).toMatchObject({ kind: 'none' });
    // PPP inside a PPPoE session is decoded (link-layer.ts), as are MPLS and LLC/SNAP.
    for (const path of ['eth:ethertype:pppoes:ppp:ip:udp', 'eth:ethertype:mpls:ip:udp', 'eth:llc:ip:udp']) {
      expect(classifyPacket(udp4('10.0.0.1', '10.0.0.2', 1, 2, { 'frame.protocols': path })), path).toMatchObject({ kind: 'flow' });
    }
  });

  it('steps over AH after IPv6 but not after IPv4', () => {
    const v6 = row({
      'frame.protocols': 'eth:ethertype:ipv6:ah:udp',
      'ipv6.src': '2001:db8::1',
      'ipv6.dst': '2001:db8::2',
      'udp.srcport': '1',
      'udp.dstport': '2',
    });
    expect(classifyPacket(v6)).toMatchObject({ kind: 'flow' });
    expect(classifyPacket(udp4('10.0.0.1', '10.0.0.2', 1, 2, { 'frame.protocols': 'eth:ethertype:ip:ah:udp' }))).toMatchObject({
      kind: 'none',
    });
  });
});

describe('ReferenceBuilder fragment attribution', () => {
  const first = udp4('10.0.0.1', '10.0.0.2', 1, 2, { 'ip.flags.mf': '1', 'ip.id': '0x0042' });
  const later = (time: string, id = '0x0042', proto = '17'): TsharkRow =>
    row({
      'frame.protocols': 'eth:ethertype:ip:data',
      'frame.time_epoch': time,
      'ip.src': '10.0.0.1',
      'ip.dst': '10.0.0.2',
      'ip.proto': proto,
      'ip.id': id,
      'ip.frag_offset': '185',
    });

  it('adds a later fragment to its first fragment flow within 30 s, else to none', () => {
    const builder = new ReferenceBuilder();
    [first, later('1700000029.000000000'), later('1700000031.000002000'), later('1700000001.0', '0x0043'), later('1700000001.0', '0x0042', '6')].forEach((r) =>
      builder.add(r),
    );
    const result = builder.result();
    expect(result.stats.fragmentsAttributed).toBe(1);
    expect(result.stats.fragmentsUnattributed).toBe(3);
    expect([...result.tuples.values()][0]?.packets).toEqual({ ab: 2, ba: 0 });
  });
});

describe('aggregateCummaJsonl and compareAggregates', () => {
  const flow = (up: number, down: number, client = '10.0.0.1', server = '10.0.0.2'): string =>
    JSON.stringify({
      l4: 'udp',
      client: { ip: client, port: client === '10.0.0.1' ? 1 : 2 },
      server: { ip: server, port: server === '10.0.0.2' ? 2 : 1 },
      firstUs: 1700000000000001,
      lastUs: 1700000000000001,
      packets: { up, down },
      bytes: { up: up * 100, down: down * 100 },
    });

  function reference(ab: number, ba: number): ReturnType<ReferenceBuilder['result']> {
    const builder = new ReferenceBuilder();
    for (let i = 0; i < ab; i++) builder.add(udp4('10.0.0.1', '10.0.0.2', 1, 2));
    for (let i = 0; i < ba; i++) builder.add(udp4('10.0.0.2', '10.0.0.1', 2, 1));
    return builder.result();
  }

  it('sums records of one tuple whichever end is the client', () => {
    const cumma = aggregateCummaJsonl([flow(2, 1), flow(1, 3, '10.0.0.2', '10.0.0.1')].join('\n'));
    const c = compareAggregates(reference(5, 2), cumma);
    expect(c.agreeing).toHaveLength(1);
    expect(c.disagreeing).toEqual([]);
  });

  it('reports count differences, missing and extra tuples', () => {
    const cumma = aggregateCummaJsonl([flow(2, 1), flow(1, 0, '10.9.9.9', '10.0.0.2')].join('\n'));
    const c = compareAggregates(reference(3, 1), cumma);
    expect(c.disagreeing[0]?.details).toEqual(['packets a→b: tshark 3, cumma 2', 'bytes a→b: tshark 300, cumma 200']);
    expect(c.extra.map((t) => t.key)).toEqual([orientTuple('udp', { ip: '10.9.9.9', port: 2 }, { ip: '10.0.0.2', port: 2 }).key]);
    const none = compareAggregates(reference(1, 0), aggregateCummaJsonl(''));
    expect(none.missing).toHaveLength(1);
  });

  it('skips tunnel tuples on both sides', () => {
    const ref = reference(1, 0);
    ref.skipped.add([...ref.tuples.keys()][0]!);
    const c = compareAggregates(ref, aggregateCummaJsonl(flow(7, 7)));
    expect(c.agreeing.length + c.disagreeing.length + c.missing.length + c.extra.length).toBe(0);
    expect(c.skipped).toHaveLength(1);
  });

  it('flags lines that break the flow-record contract', () => {
    const bad = aggregateCummaJsonl(['{"l4":"sctp"}', flow(1, 0).replace('10.0.0.1', '10.0.0.01'), 'x'].join('\n'));
    expect(bad.problems).toHaveLength(3);
  });
});

describe('tshark text parsing', () => {
  it('keeps nanosecond epochs exact to the microsecond', () => {
    expect(epochToMicros('1700000000.123456789')).toBe(1700000000123456);
    expect(epochToMicros('1700000000.5')).toBe(1700000000500000);
  });

  it('maps tab-separated columns to field names', () => {
    const values = TSHARK_FIELDS.map((_, i) => (i === 1 ? '60' : ''));
    expect(parseTsharkLine(values.join('\t'))['frame.len']).toBe('60');
  });
});
