// Address text as tshark prints it, and what the Wireshark plugin then matches. ip-address.ts
// claims Wireshark's format: tshark (glibc's inet_ntop) dots the last 32 bits of IPv4-compatible
// addresses (::1.2.3.4), which cumma printed in hex (::102:304, review t10). The plugin parses
// sidecar addresses to bytes, so it must label the packets whichever form a sidecar holds.
// And README's "Matching" says tunnelled packets get no label: checked on VXLAN here.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIpv6 } from '../../agent/src/flows/ip-address';
import { bytes, ethernet, fields, ipv4, ipv6, ipv6Bytes, pcapHeader, pcapRecord, udp } from '../support/capture-bytes';
import { requireTools } from '../support/tools';
import { cummaFlows } from '../capture/tshark-per-tuple';

const PLUGIN = resolve(__dirname, '../../lua-dissector/cumma.lua');
const T0 = 1_700_000_000;
const SIDECAR_HEADER = 'l4\tip_a\tport_a\tip_b\tport_b\tstart_us\tend_us\tusage\tconfidence\tsession\tdialog\tstatus';

/** Sources whose text tshark and glibc write in a way worth pinning down, in each group. */
const ADDRESSES = [
  '::1.2.3.4', // IPv4-compatible: dotted
  '::0.1.0.0', // the run is still the first six groups: dotted
  '::0.1.0.2',
  '::255.255.255.255',
  '::1', // a run of seven: hex
  '::ffff', // a run of seven: hex
  '::100',
  '::',
  '::ffff:1.2.3.4', // IPv4-mapped: dotted
  '::ffff:0:102:304', // IPv4-translated: hex
  '64:ff9b::102:304', // NAT64: hex
  '::1:0:0',
  '1::102:304',
  '::5efe:102:304',
];

function wordsOf(text: string): Uint32Array {
  const raw = ipv6Bytes(text.includes('.') ? dottedToHex(text) : text);
  return Uint32Array.from([0, 1, 2, 3], (word) => ((raw[word * 4]! << 24) | (raw[word * 4 + 1]! << 16) | (raw[word * 4 + 2]! << 8) | raw[word * 4 + 3]!) >>> 0);
}

/** The test support's parser reads hex groups only: rewrite a dotted tail as two groups. */
function dottedToHex(text: string): string {
  return text.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a: string, b: string, c: string, d: string) =>
    `${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}`,
  );
}

describe('formatIpv6 on IPv4-compatible and neighbouring addresses', () => {
  it.each(ADDRESSES)('prints %s as glibc does', (text) => {
    expect(formatIpv6(wordsOf(text))).toBe(text);
  });
});

const tools = requireTools('tshark');

describe.skipIf(tools.skip)('address text against tshark, and the plugin matching it', () => {
  let dir = '';
  let file = '';

  beforeAll(() => {
    tools.assertAvailable();
    dir = mkdtempSync(join(tmpdir(), 'cumma-address-text-'));
    file = join(dir, 'addresses.pcap');
    const records = ADDRESSES.map((src, index) =>
      pcapRecord(true, T0, index, ethernet(0x86dd, ipv6({ src: dottedToHex(src), dst: '2001:db8::1', nextHeader: 17, payload: udp(1000 + index, 53, 4) }))),
    );
    writeFileSync(file, bytes(pcapHeader({ littleEndian: true, linkType: 1 }), ...records));
  });

  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('prints every source address exactly as tshark does', () => {
    const shown = spawnSync('tshark', ['-n', '-r', file, '-T', 'fields', '-e', 'ipv6.src'], { encoding: 'utf8' }).stdout.trimEnd().split('\n');
    expect(shown).toStrictEqual(ADDRESSES);
    expect(cummaFlows(file).flows.map((flow) => flow.client.ip)).toStrictEqual(shown);
  });

  /** The sidecar of one dialog per flow, `ip` rewriting each client address, and the labels tshark shows. */
  function labels(ip: (text: string) => string): string[] {
    const lines = cummaFlows(file).flows.map((flow, index) =>
      ['udp', ip(flow.client.ip), flow.client.port, flow.server.ip, flow.server.port, flow.firstUs, flow.lastUs, 'text', '0.9000', 1, index + 1, 'final'].join('\t'),
    );
    writeFileSync(`${file}.cumma.tsv`, `${SIDECAR_HEADER}\n${lines.join('\n')}\n`);
    const run = spawnSync('tshark', ['-X', `lua_script:${PLUGIN}`, '-o', 'cumma.source:sidecar', '-n', '-r', file, '-T', 'fields', '-e', 'cumma.dialog'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    return run.stdout.trimEnd().split('\n');
  }

  it('lets the plugin label every packet from a sidecar written with these addresses', () => {
    expect(labels((text) => text)).toStrictEqual(ADDRESSES.map((_, index) => String(index + 1)));
  });

  it('lets the plugin label them from a sidecar of the hex form older versions wrote, too', () => {
    expect(labels(dottedToHex)).toStrictEqual(ADDRESSES.map((_, index) => String(index + 1)));
  });

  it('gives a VXLAN packet no label even with a dialog on its outer UDP flow (README, Matching)', () => {
    const inner = ethernet(0x0800, ipv4({ src: '192.168.0.1', dst: '192.168.0.2', protocol: 17, payload: udp(5000, 6000, 5) }));
    const vxlan = bytes(fields(false).u8(0x08).u8(0).u16(0).u32(100 << 8).done(), inner);
    // udp() fills its payload with zeros; the VXLAN bytes go after a hand-made UDP header.
    const frame = ethernet(0x0800, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, payload: bytes(fields(false).u16(40000).u16(4789).u16(8 + vxlan.length).u16(0).done(), vxlan) }));
    const tunnel = join(dir, 'vxlan.pcap');
    writeFileSync(tunnel, bytes(pcapHeader({ littleEndian: true, linkType: 1 }), pcapRecord(true, T0, 0, frame), pcapRecord(true, T0, 1, frame)));
    const [flow, ...others] = cummaFlows(tunnel).flows;
    expect(others).toStrictEqual([]);
    expect([flow!.client, flow!.server]).toStrictEqual([
      { ip: '10.0.0.1', port: 40000 },
      { ip: '10.0.0.2', port: 4789 },
    ]);
    writeFileSync(`${tunnel}.cumma.tsv`, `${SIDECAR_HEADER}\nudp\t10.0.0.1\t40000\t10.0.0.2\t4789\t${flow!.firstUs}\t${flow!.lastUs}\ttext\t0.9000\t1\t1\tfinal\n`);
    const run = spawnSync('tshark', ['-X', `lua_script:${PLUGIN}`, '-o', 'cumma.source:sidecar', '-n', '-r', tunnel, '-T', 'fields', '-e', 'frame.protocols', '-e', 'cumma.usage'], { encoding: 'utf8' });
    const rows = run.stdout.split('\n').filter((line) => line !== '').map((line) => line.split('\t'));
    expect(rows.map(([protocols]) => protocols!.startsWith('eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:udp'))).toStrictEqual([true, true]);
    expect(rows.map(([, usage]) => usage ?? '')).toStrictEqual(['', '']);
  });
});
