// The Wireshark plugin reading labels from the sidecar X.pcapng.cumma.tsv, in real tshark:
// every packet gets the usage of the dialog it belongs to (worked out here from the dialog records
// and tshark's own addresses, ports and times), display filters select exactly those packets,
// boundary packets match at nanosecond resolution, and bad input never raises a Lua error.

import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticCaptureFile } from '../../scripts/lib/synthetic-capture';
import { text2pcap, TimedPacket } from '../support/capture-files';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_VLAN, ethernet, ipv4, ipv6, payload, PROTO_IPIP, PROTO_TCP, PROTO_UDP, tcp, TCP_ACK, udp } from '../support/packets';
import { requireTools } from '../support/tools';
import { CLI, cumma, DialogLike, expectedUsages, expectLabels, expectNoLuaError, parseJsonl, PLUGIN, readPackets, tshark, tsharkBounded } from './support';

const tools = requireTools('tshark', 'text2pcap', 'editcap');
const SIDECAR_HEADER = 'l4\tip_a\tport_a\tip_b\tport_b\tstart_us\tend_us\tusage\tconfidence\tsession\tdialog\tstatus';

describe.skipIf(tools.skip)('Wireshark plugin: labels from the sidecar', () => {
  let dir: string;
  let simulated: string;
  let records: DialogLike[];

  beforeAll(() => {
    tools.assertAvailable();
    if (!existsSync(CLI)) throw new Error(`${CLI} does not exist: run 'npm run build' first`);
    dir = mkdtempSync(join(tmpdir(), 'cumma-lua-sidecar-'));
    simulated = join(dir, 'scenario.pcapng');
    const sim = cumma(['simulate', '--scenario', 'text,photo,voice_call:20', '--seed', '7', '-o', simulated]);
    if (sim.status !== 0) throw new Error(`simulate failed: ${sim.stderr}`);
    const classified = cumma(['classify', simulated, '--sidecar', '--format', 'jsonl']);
    if (classified.status !== 0) throw new Error(`classify failed: ${classified.stderr}`);
    records = parseJsonl<DialogLike>(classified.stdout);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives every packet the usage of its dialog (5-tuple either way, time inside [start, end])', () => {
    expect(existsSync(`${simulated}.cumma.tsv`)).toBe(true);
    const { rows, run } = readPackets(simulated);
    expectNoLuaError(run);
    const expected = expectedUsages(rows, records);
    expect(rows.length).toBeGreaterThan(2000);
    // Every packet of the simulated capture is TCP or UDP, so every one is in a dialog.
    expect([...expected.values()].filter((u) => u === '')).toEqual([]);
    expectLabels(rows, expected);
    // The first and last packet of each dialog sit exactly on its start_us and end_us.
    for (const r of records) {
      const first = rows.find((row) => row.us === r.startUs && row.sport !== undefined && [r.client.port, r.server.port].includes(row.sport));
      const last = rows.find((row) => row.us === r.endUs && row.sport !== undefined && [r.client.port, r.server.port].includes(row.sport));
      expect(first?.usage, `first packet of ${r.l4} ${r.client.port} at ${r.startUs}`).toBe(r.usage);
      expect(last?.usage, `last packet of ${r.l4} ${r.client.port} at ${r.endUs}`).toBe(r.usage);
    }
  });

  it('selects exactly the voice_call packets with -Y \'cumma.usage == "voice_call"\'', () => {
    const { rows } = readPackets(simulated);
    const expected = expectedUsages(rows, records);
    const wanted = rows.filter((row) => expected.get(row.frame) === 'voice_call').map((row) => row.frame);
    expect(wanted.length).toBeGreaterThan(100);
    const run = tshark(['-r', simulated, '-Y', 'cumma.usage == "voice_call"', '-T', 'fields', '-e', 'frame.number']);
    expect(run.status, run.stderr).toBe(0);
    expectNoLuaError(run);
    expect(run.stdout.split('\n').filter((l) => l !== '').map(Number)).toEqual(wanted);
    // And the coarse group.
    const calls = tshark(['-r', simulated, '-Y', 'cumma.group == "call"', '-T', 'fields', '-e', 'frame.number']);
    const callFrames = rows.filter((row) => ['voice_call', 'video_call'].includes(expected.get(row.frame) ?? '')).map((row) => row.frame);
    expect(calls.stdout.split('\n').filter((l) => l !== '').map(Number)).toEqual(callFrames);
  });

  it('fills the fields a filter and the columns ask for when the tree is hidden (asked once per pass)', () => {
    // No -V and no -T fields: the tree is built for the filter but not shown, so the plugin adds
    // only the referenced fields, and tshark asks which they are once.
    const { rows } = readPackets(simulated);
    const expected = expectedUsages(rows, records);
    const callFrames = rows.filter((row) => ['voice_call', 'video_call'].includes(expected.get(row.frame) ?? '')).map((row) => row.frame);
    expect(callFrames.length).toBeGreaterThan(100);
    const run = tshark([
      '-r', simulated, '-Y', 'cumma.group == "call" && cumma.confidence >= 0',
      '-o', 'gui.column.format:"No.","%m","Usage","%Cus:cumma.usage","Dialog","%Cus:cumma.dialog"',
    ]);
    expect(run.status, run.stderr).toBe(0);
    expectNoLuaError(run);
    const columns = run.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => l.trim().split(/\s+/));
    expect(columns.map((c) => Number(c[0]))).toEqual(callFrames);
    expect(columns.map((c) => c[1])).toEqual(callFrames.map((frame) => expected.get(frame)));
    expect(columns.every((c) => /^\d+$/.test(c[2] ?? ''))).toBe(true);
  });

  it('fills the second pass\'s fields in a two-pass run whose first pass filters on others (-2 -R … -Y …)', () => {
    // The plugin asks once which fields are wanted and keeps the answer for the run. tshark 4.0
    // answers with both passes' fields (usage and group) already in the first pass; were the
    // answer the first pass's alone, `cumma.group` would be missing in the second and select nothing.
    const { rows } = readPackets(simulated);
    const expected = expectedUsages(rows, records);
    const callFrames = rows.filter((row) => ['voice_call', 'video_call'].includes(expected.get(row.frame) ?? '')).map((row) => row.frame);
    expect(callFrames.length).toBeGreaterThan(100);
    const run = tshark(['-r', simulated, '-2', '-R', 'cumma.usage', '-Y', 'cumma.group == "call"', '-T', 'fields', '-e', 'frame.number', '-e', 'cumma.dialog']);
    expect(run.status, run.stderr).toBe(0);
    expectNoLuaError(run);
    const lines = run.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
    // Every packet has a usage, so the first pass keeps them all and frame numbers stay the file's.
    expect(lines.map((l) => Number(l[0]))).toEqual(callFrames);
    expect(lines.every((l) => /^\d+$/.test(l[1] ?? ''))).toBe(true);
  });

  it('shows the subtree, every field and where the labels come from', () => {
    const voice = records.find((r) => r.usage === 'voice_call') as DialogLike & { session: number; dialog: number; confidence: number; status: string };
    const { rows } = readPackets(simulated);
    const first = rows.find((row) => row.us === voice.startUs && row.sport === voice.client.port)!;
    const run = tshark(['-r', simulated, '-Y', `frame.number == ${first.frame}`, '-V', '-O', 'cumma']);
    expect(run.status, run.stderr).toBe(0);
    expectNoLuaError(run);
    const percent = `${Math.round(voice.confidence * 100)} %`;
    expect(run.stdout).toContain(`Cumma: voice_call (${percent}), dialog ${voice.dialog} of session ${voice.session}`);
    expect(run.stdout).toContain('    Usage: voice_call');
    expect(run.stdout).toContain('    Group: call');
    expect(run.stdout).toMatch(/ {4}Confidence: 0\.\d+/);
    expect(run.stdout).toContain(`    Session: ${voice.session}`);
    expect(run.stdout).toContain(`    Dialog: ${voice.dialog}`);
    expect(run.stdout).toContain(`    Status: ${voice.status}`);
    expect(run.stdout).toContain(`    Source: from sidecar ${simulated}.cumma.tsv`);
  });

  it('labels IPv6 and DNS flows of a mixed capture, whatever name resolution shows', () => {
    const capture = join(dir, 'mixed.pcapng');
    const summary = writeSyntheticCaptureFile(capture, { seed: 3, packets: 4000, flows: 80 });
    expect(summary.ipv6Flows).toBeGreaterThan(0);
    const classified = cumma(['classify', capture, '--sidecar', '--format', 'jsonl']);
    expect(classified.status, classified.stderr).toBe(0);
    const mixed = parseJsonl<DialogLike>(classified.stdout);
    const { rows, run } = readPackets(capture);
    expectNoLuaError(run);
    const expected = expectedUsages(rows, mixed);
    expect(rows.filter((row) => row.src?.includes(':') && row.usage !== '').length).toBeGreaterThan(0);
    expectLabels(rows, expected);
    // With network name resolution on and a hosts file naming some of the addresses, Wireshark
    // shows names instead of addresses; labels must not change.
    const hosts = join(dir, 'hosts');
    const named = [...new Set(mixed.flatMap((r) => [r.client.ip, r.server.ip]))].slice(0, 40);
    writeFileSync(hosts, named.map((ip, i) => `${ip}\thost-${i}.example\n`).join(''));
    const resolved = readPackets(capture, ['-N', 'n', '-H', hosts]);
    expectLabels(resolved.rows, expected);
  });

  it('labels UDP packets whose header the snapshot length cut short, as cumma classify does', () => {
    // Wireshark leaves such a packet without port type and ports; classify reads the ports from
    // the bytes. Cut the simulated capture (IPv4) at 40 bytes (6 of the UDP header's 8), and a
    // mixed one at 60 (IPv6: 6 of 8; IPv4: the whole header).
    const mixed = join(dir, 'mixed-for-cut.pcapng');
    expect(writeSyntheticCaptureFile(mixed, { seed: 5, packets: 3000, flows: 60 }).ipv6Flows).toBeGreaterThan(0);
    const cuts: [string, string, string][] = [
      [simulated, '40', 'ipv4-40'],
      [mixed, '60', 'mixed-60'],
    ];
    for (const [source, snaplen, name] of cuts) {
      const cut = join(dir, `cut-${name}.pcapng`);
      expect(spawnSync('editcap', ['-s', snaplen, source, cut]).status).toBe(0);
      const classified = cumma(['classify', cut, '--sidecar', '--format', 'jsonl']);
      expect(classified.status, classified.stderr).toBe(0);
      const { rows, run } = readPackets(cut);
      expectNoLuaError(run);
      expect(run.stderr, name).not.toMatch(/fall outside|none of the first/);
      const expected = expectedUsages(rows, parseJsonl<DialogLike>(classified.stdout));
      const cutUdp = rows.filter((row) => row.l4 === 'udp' && expected.get(row.frame) !== '' && (name === 'ipv4-40' || row.src?.includes(':')));
      expect(cutUdp.length, name).toBeGreaterThan(100);
      expectLabels(rows, expected);
    }
    // UDP alone, so no earlier TCP packet shows where the IP header sits.
    const udpOnly = join(dir, 'cut-udp-only.pcapng');
    expect(spawnSync('tshark', ['-r', join(dir, 'cut-ipv4-40.pcapng'), '-Y', 'udp', '-w', udpOnly]).status).toBe(0);
    const classified = cumma(['classify', udpOnly, '--sidecar', '--format', 'jsonl']);
    expect(classified.status, classified.stderr).toBe(0);
    const { rows } = readPackets(udpOnly);
    expect(rows.filter((row) => row.usage !== '').length).toBeGreaterThan(100);
    expectLabels(rows, expectedUsages(rows, parseJsonl<DialogLike>(classified.stdout)));
    // Such packets count for the check that the sidecar fits: 10 s later, it does not.
    const shifted = join(dir, 'cut-udp-only-shifted.pcapng');
    expect(spawnSync('editcap', ['-t', '10', udpOnly, shifted]).status).toBe(0);
    copyFileSync(`${udpOnly}.cumma.tsv`, `${shifted}.cumma.tsv`);
    expect(readPackets(shifted).run.stderr).toMatch(/cumma: sidecar .*cut-udp-only-shifted\.pcapng\.cumma\.tsv: \d+ packets of its flows fall outside all of its dialogs/);
  });

  describe('nanosecond timestamps at dialog boundaries', () => {
    // One UDP flow 10.0.0.1:5000 ↔ 10.0.0.2:6000 in two dialogs; the sidecar holds floored µs,
    // as the agent writes them. Around it: the same ports from another host, over TCP, behind a
    // VLAN tag, and an IPv6 flow.
    const BASE = 1705312800;
    const at = (seconds: number, ns: number): string => `${BASE + seconds}.${String(ns).padStart(9, '0')}`;
    const v4 = (src: string, dst: string, sport: number, dport: number, tags: [number, number][] = []): number[] =>
      ethernet(ETHERTYPE_IPV4, ipv4({ src, dst, proto: PROTO_UDP }, udp(sport, dport, payload(40))), tags);
    const packets: (TimedPacket & { expect: string })[] = [
      { time: at(0, 123_456_999), bytes: v4('10.0.0.1', '10.0.0.2', 5000, 6000), expect: 'voice_call' }, // first: floors to start_us
      { time: at(0, 500_000_000), bytes: v4('10.0.0.2', '10.0.0.1', 6000, 5000), expect: 'voice_call' }, // reverse direction
      { time: at(0, 600_000_000), bytes: v4('10.0.0.3', '10.0.0.2', 5000, 6000), expect: '' }, // same ports, other host
      { time: at(0, 700_000_000), bytes: ethernet(ETHERTYPE_IPV4, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: PROTO_TCP }, tcp({ sport: 5000, dport: 6000, flags: TCP_ACK }))), expect: '' }, // TCP, not UDP
      { time: at(1, 0), bytes: v4('10.0.0.1', '10.0.0.2', 5000, 6000, [[ETHERTYPE_VLAN, 7]]), expect: 'voice_call' }, // VLAN tag: addresses elsewhere
      { time: at(1, 999_999_999), bytes: v4('10.0.0.2', '10.0.0.1', 6000, 5000), expect: 'voice_call' }, // last: floors to end_us
      { time: at(2, 0), bytes: ethernet(ETHERTYPE_IPV6, ipv6({ src: '2001:db8::10', dst: '2001:db8:53::53', next: PROTO_UDP }, udp(41000, 53, payload(30)))), expect: 'other' },
      { time: at(7, 0), bytes: v4('10.0.0.1', '10.0.0.2', 5000, 6000), expect: '' }, // between the dialogs
      { time: at(12, 1), bytes: v4('10.0.0.1', '10.0.0.2', 5000, 6000), expect: 'text' }, // second dialog, one packet
      { time: at(13, 0), bytes: v4('10.0.0.3', '10.0.0.2', 5000, 6000), expect: '' },
    ];
    const sidecar = [
      SIDECAR_HEADER,
      `udp\t10.0.0.1\t5000\t10.0.0.2\t6000\t${BASE}123456\t${BASE + 1}999999\tvoice_call\t0.9300\t1\t1\tfinal`,
      `udp\t2001:db8::10\t41000\t2001:db8:53::53\t53\t${BASE + 2}000000\t${BASE + 2}000000\tother\t0.9900\t1\t1\tfinal`,
      `udp\t10.0.0.1\t5000\t10.0.0.2\t6000\t${BASE + 12}000000\t${BASE + 12}000000\ttext\t0.6100\t1\t2\tprovisional`,
      '',
    ].join('\n');

    it('labels packets on and inside the boundaries, and no packet of another flow', () => {
      const capture = text2pcap(packets, join(dir, 'boundaries.pcapng'));
      writeFileSync(`${capture}.cumma.tsv`, sidecar);
      const { rows, run } = readPackets(capture);
      expectNoLuaError(run);
      expect(rows.map((row) => row.usage)).toEqual(packets.map((p) => p.expect));
      // Provisional labels carry an expert note.
      const expert = tshark(['-r', capture, '-Y', 'cumma.status == "provisional"', '-V', '-O', 'cumma']);
      expect(expert.stdout).toContain('Cumma: provisional label');
    });

    it('labels a packet by its own 5-tuple, never by a tunnel\'s outer addresses, whichever packet comes first', () => {
      // IP-in-IP: outer 10.0.0.1 → 10.0.0.2 (the labelled flow's addresses) carrying UDP
      // 192.168.1.1:5000 → 192.168.1.2:6000 (its ports): Wireshark's addresses are the inner
      // ones, a flow the sidecar does not have.
      const plain = v4('10.0.0.1', '10.0.0.2', 5000, 6000);
      const tunnelled = ethernet(ETHERTYPE_IPV4, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: PROTO_IPIP }, ipv4({ src: '192.168.1.1', dst: '192.168.1.2', proto: PROTO_UDP }, udp(5000, 6000, payload(40)))));
      for (const order of [[plain, tunnelled, plain], [tunnelled, plain, tunnelled]]) {
        const capture = text2pcap(order.map((bytes, i) => ({ time: at(0, 200_000_000 + i * 1000), bytes })), join(dir, `tunnel-${order[0] === plain ? 'plain' : 'tunnel'}-first.pcapng`));
        writeFileSync(`${capture}.cumma.tsv`, sidecar);
        const { rows, run } = readPackets(capture);
        expectNoLuaError(run);
        expect(rows.map((row) => row.usage)).toEqual(order.map((bytes) => (bytes === plain ? 'voice_call' : '')));
      }
    });

    it('reads the sidecar named by the preference instead of the default', () => {
      const capture = text2pcap(packets, join(dir, 'elsewhere.pcapng'));
      const other = join(dir, 'labels-somewhere.tsv');
      writeFileSync(other, sidecar);
      const { rows } = readPackets(capture, ['-o', `cumma.sidecar:${other}`]);
      expect(rows.map((row) => row.usage)).toEqual(packets.map((p) => p.expect));
    });
  });

  it('skips malformed sidecar lines with a message naming them; the other lines still label', () => {
    const capture = join(dir, 'malformed.pcapng');
    copyFileSync(simulated, capture);
    const good = readFileSync(`${simulated}.cumma.tsv`, 'utf8').trimEnd().split('\n');
    const lines = [
      good[0]!,
      good[1]!,
      'tcp\t10.0.0.1\t5000', // line 3: too few columns
      good[2]!,
      good[3]!.replace(/\t\d+\t(\d+\t\d+)\t/, '\t99999\t$1\t'), // line 5: port out of range (that dialog loses its label)
      'udp\t10.0.0.1\t5000\t10.0.0.2\t6000\tsoon\tlater\ttext\t0.5\t1\t1\tfinal', // line 6: times are not numbers
      'udp\tnot-an-address\t5000\t10.0.0.2\t6000\t1\t2\ttext\t0.5\t1\t1\tfinal', // line 7
      'udp\t10.0.0.1\t5000\t10.0.0.2\t6000\t1\t2\ttext\t0.5\t1\t1\tmaybe', // line 8: bad status
      ...good.slice(4),
    ];
    writeFileSync(`${capture}.cumma.tsv`, `${lines.join('\n')}\n`);
    const { rows, run } = readPackets(capture);
    expectNoLuaError(run);
    for (const n of [3, 5, 6, 7, 8]) expect(run.stderr).toMatch(new RegExp(`cumma: sidecar .*malformed\\.pcapng\\.cumma\\.tsv line ${n}: .*\\(line skipped\\)`));
    expect(run.stderr).not.toMatch(/ line (2|4|9): /);
    // The dialog of line 5 is gone; every other packet keeps its label.
    const lost = good[3]!.split('\t');
    const kept = records.filter((r) => !(String(r.startUs) === lost[5] && r.client.port === Number(lost[2])));
    expect(kept.length).toBe(records.length - 1);
    expectLabels(rows, expectedUsages(rows, kept));
    // The tree says how many lines were skipped.
    const tree = tshark(['-r', capture, '-Y', 'frame.number == 1', '-V', '-O', 'cumma']);
    expect(tree.stdout).toContain('(5 malformed line(s) skipped)');
  });

  it('without sidecar and agent: "no labels: …" in the tree and on stderr, no Lua error', () => {
    const capture = join(dir, 'alone.pcapng');
    copyFileSync(simulated, capture);
    const run = tshark(['-r', capture, '-Y', 'frame.number <= 3', '-V', '-O', 'cumma', '-o', 'cumma.port:1']);
    expect(run.status, run.stderr).toBe(0);
    expectNoLuaError(run);
    const reason = `no labels: no sidecar ${capture}.cumma.tsv; agent 127.0.0.1:1 not reachable (connection refused)`;
    expect(run.stderr).toContain(`cumma: ${reason}`);
    expect(run.stdout.split('\n').filter((l) => l === `Cumma: ${reason}`).length).toBe(3);
    const filtered = tshark(['-r', capture, '-Y', 'cumma.usage', '-o', 'cumma.port:1']);
    expect(filtered.stdout).toBe('');
    // `cumma` keeps meaning "labelled": the reason is shown only in trees a person reads.
    const count = (filter: string): number => tshark(['-r', capture, '-Y', filter, '-o', 'cumma.port:1']).stdout.split('\n').filter((l) => l !== '').length;
    const frames = tshark(['-r', capture]).stdout.split('\n').filter((l) => l !== '').length;
    expect(frames).toBeGreaterThan(2000);
    expect(count('cumma')).toBe(0);
    expect(count('!cumma')).toBe(frames);
  });

  // Found in review: a FIFO named like the sidecar held tshark in open(2) for good (only SIGKILL
  // ended it), and a symbolic link to /dev/zero read on to 16.8 GB. Neither is opened now.
  it('refuses a sidecar that is a FIFO, a device (a symbolic link to /dev/zero) or a folder, without opening it', async () => {
    const cases: [name: string, make: (sidecar: string) => void, what: string][] = [
      ['fifo', (sidecar) => expect(spawnSync('mkfifo', [sidecar]).status).toBe(0), 'a FIFO (named pipe)'],
      ['zero', (sidecar) => symlinkSync('/dev/zero', sidecar), 'a character device'],
      ['folder', (sidecar) => mkdirSync(sidecar), 'a directory'],
    ];
    for (const [name, make, what] of cases) {
      const capture = join(dir, `${name}.pcapng`);
      copyFileSync(simulated, capture);
      const sidecar = `${capture}.cumma.tsv`;
      make(sidecar);
      // In auto mode the agent is tried next; in sidecar mode the sidecar is all there is.
      const auto = await tsharkBounded(['-r', capture, '-Y', 'frame.number <= 2', '-V', '-O', 'cumma', '-o', 'cumma.port:1'], { timeoutMs: 20_000 });
      expect(auto.timedOut, `${name}: tshark still running after 20 s (${auto.stderr})`).toBe(false);
      expect(auto.status, auto.stderr).toBe(0);
      expectNoLuaError(auto);
      const reason = `no labels: sidecar ${sidecar} is ${what}, not a regular file; agent 127.0.0.1:1 not reachable (connection refused)`;
      expect(auto.stderr).toContain(`cumma: ${reason}`);
      expect(auto.stdout.split('\n').filter((l) => l === `Cumma: ${reason}`).length).toBe(2);
      // Named by the preference, with no capture beside it.
      const named = await tsharkBounded(['-r', simulated, '-c', '1', '-V', '-O', 'cumma', '-o', 'cumma.source:sidecar', '-o', `cumma.sidecar:${sidecar}`], { timeoutMs: 20_000 });
      expect(named.timedOut, `${name}: tshark still running after 20 s (${named.stderr})`).toBe(false);
      expect(named.status, named.stderr).toBe(0);
      expect(named.stderr).toContain(`cumma: no labels: sidecar ${sidecar} is ${what}, not a regular file\n`);
    }
  }, 120_000);

  it('refuses a sidecar larger than 256 MiB unread', async () => {
    const capture = join(dir, 'huge.pcapng');
    copyFileSync(simulated, capture);
    const sidecar = `${capture}.cumma.tsv`;
    // Sparse: no disk space, and a plugin that read it would read 256 MiB of zero bytes.
    const limit = 256 * 1024 * 1024;
    writeFileSync(sidecar, '');
    truncateSync(sidecar, limit + 1);
    const run = await tsharkBounded(['-r', capture, '-c', '1', '-V', '-O', 'cumma', '-o', 'cumma.source:sidecar'], { timeoutMs: 20_000 });
    expect(run.timedOut, run.stderr).toBe(false);
    expect(run.status, run.stderr).toBe(0);
    expectNoLuaError(run);
    const reason = `no labels: sidecar ${sidecar} is larger than 256 MiB (${limit + 1} bytes), the most the plugin reads`;
    expect(run.stderr).toContain(`cumma: ${reason}\n`);
    expect(run.stdout).toContain(`Cumma: ${reason}\n`);
    rmSync(sidecar);
  }, 60_000);

  it('`cumma` matches labelled packets only, whatever tshark prints (-V, -O, -T fields|json|pdml)', () => {
    // tshark filters the tree it prints, so an item that says why a packet has no label, were it
    // a cumma item, would match `cumma` there and only there.
    const outputs: [string, string[], RegExp][] = [
      ['summary', [], /^ *\d+ /gm],
      ['-V', ['-V'], /^Frame \d+:/gm],
      ['-V -O cumma', ['-V', '-O', 'cumma'], /^Frame \d+:/gm],
      ['-T fields', ['-T', 'fields', '-e', 'frame.number'], /^\d+$/gm],
      ['-T json', ['-T', 'json'], /"_index":/g],
      ['-T pdml', ['-T', 'pdml'], /<packet>/g],
    ];
    const count = (capture: string, filter: string, output: string[], packets: RegExp): number => {
      const run = tshark(['-r', capture, '-Y', filter, ...output, '-o', 'cumma.port:1']);
      expect(run.status, run.stderr).toBe(0);
      expectNoLuaError(run);
      return (run.stdout.match(packets) ?? []).length;
    };
    // No labels at all.
    const alone = join(dir, 'alone-outputs.pcapng');
    copyFileSync(simulated, alone);
    const frames = tshark(['-r', alone]).stdout.split('\n').filter((l) => l !== '').length;
    expect(frames).toBeGreaterThan(2000);
    for (const [name, output, packets] of outputs) {
      expect(count(alone, 'cumma', output, packets), name).toBe(0);
      expect(count(alone, '!cumma', output, packets), name).toBe(frames);
    }
    // A sidecar of the capture's first 1000 packets: the rest of its flows' packets have none.
    const half = join(dir, 'half.pcapng');
    expect(spawnSync('editcap', ['-r', simulated, half, '1-1000']).status).toBe(0);
    expect(cumma(['classify', half, '--sidecar', '--format', 'jsonl']).status).toBe(0);
    const stale = join(dir, 'stale-outputs.pcapng');
    copyFileSync(simulated, stale);
    copyFileSync(`${half}.cumma.tsv`, `${stale}.cumma.tsv`);
    const labelled = tshark(['-r', stale, '-T', 'fields', '-e', 'cumma.usage']).stdout.split('\n').filter((l) => l !== '').length;
    expect(labelled).toBeGreaterThan(500);
    expect(labelled).toBeLessThan(frames - 100);
    for (const [name, output, packets] of outputs) expect(count(stale, 'cumma', output, packets), name).toBe(labelled);
    // The trees a person reads still say why.
    const tree = tshark(['-r', stale, '-Y', `frame.number == ${frames}`, '-V']);
    expect(tree.stdout).toContain('Cumma: no label (its flow has dialogs in the sidecar, none at this time)');
    expect(tree.stdout).toContain(`sidecar ${stale}.cumma.tsv: a sidecar older than the capture`);
  });

  it('fills columns and statistics in the second pass of tshark -2 -R', () => {
    // tshark's first pass asks for the -R filter's fields only, its second for the columns' and
    // the statistics' too, without a new init between them.
    const columns = 'gui.column.format:"No.","%m","Usage","%Cus:cumma.usage","Group","%Cus:cumma.group","Confidence","%Cus:cumma.confidence"';
    const lines = (args: string[]): string[][] => {
      const run = tshark(['-r', simulated, ...args, '-o', columns]);
      expect(run.status, run.stderr).toBe(0);
      expectNoLuaError(run);
      return run.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => l.trim().split(/\s+/));
    };
    const onePass = lines(['-Y', 'cumma']);
    expect(onePass.length).toBeGreaterThan(2000);
    expect(onePass.every((c) => c.length === 4 && /^0\.\d+|^1$/.test(c[3]!))).toBe(true);
    expect(lines(['-2', '-R', 'cumma'])).toEqual(onePass);
    // The second pass numbers the packets the first one kept: compared without the number.
    const voice = lines(['-2', '-R', 'cumma.usage == "voice_call"']).map((c) => c.slice(1));
    expect(voice).toEqual(onePass.filter((c) => c[1] === 'voice_call').map((c) => c.slice(1)));
    const calls = (args: string[]): string => {
      const run = tshark(['-r', simulated, ...args, '-q', '-z', 'io,stat,0,cumma.group == "call"']);
      expect(run.status, run.stderr).toBe(0);
      return run.stdout.split('\n').find((l) => l.includes('<>')) ?? '';
    };
    const expected = onePass.filter((c) => c[2] === 'call').length;
    expect(expected).toBeGreaterThan(100);
    expect(calls([]).split('|')[2]?.trim()).toBe(String(expected));
    expect(calls(['-2', '-R', 'cumma']).split('|')[2]?.trim()).toBe(String(expected));
  });

  it('says on stderr when the sidecar does not fit the capture: shifted in time, or another capture\'s', () => {
    const fitting = readPackets(simulated).run;
    expect(fitting.stderr).not.toMatch(/fall outside|may belong to another capture/);
    // The capture edited after labelling: every packet 10 s later (Wireshark's editcap).
    const shifted = join(dir, 'shifted.pcapng');
    expect(spawnSync('editcap', ['-t', '10', simulated, shifted]).status).toBe(0);
    copyFileSync(`${simulated}.cumma.tsv`, `${shifted}.cumma.tsv`);
    const stale = readPackets(shifted).run;
    expectNoLuaError(stale);
    expect(stale.stderr).toMatch(new RegExp(`cumma: sidecar ${shifted.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.cumma\\.tsv: \\d+ packets of its flows fall outside all of its dialogs \\(\\d+ labelled so far\\): it may be older than the capture`));
    expect(stale.stderr.match(/fall outside/g)).toHaveLength(1);
    // A packet so left bare says why in its tree.
    const tree = tshark(['-r', shifted, '-Y', 'frame.number == 100', '-V', '-O', 'cumma']);
    expect(tree.stdout).toContain('Cumma: no label (its flow has dialogs in the sidecar, none at this time)');
    // Another capture under the sidecar's name: nothing matches.
    const other = join(dir, 'other.pcapng');
    copyFileSync(join(__dirname, '..', '..', 'samples', 'whatsapp-chat.pcapng'), other);
    copyFileSync(`${simulated}.cumma.tsv`, `${other}.cumma.tsv`);
    const foreign = readPackets(other).run;
    expect(foreign.stderr).toContain(`cumma: sidecar ${other}.cumma.tsv: none of the first 200 TCP/UDP packets is in one of its dialogs: it may belong to another capture`);
  });

  it('labels a gzip-compressed capture from the sidecar of the uncompressed file', () => {
    const compressed = join(dir, 'compressed.pcapng.gz');
    writeFileSync(compressed, gzipSync(readFileSync(simulated)));
    copyFileSync(`${simulated}.cumma.tsv`, join(dir, 'compressed.pcapng.cumma.tsv'));
    const { rows, run } = readPackets(compressed);
    expectNoLuaError(run);
    expect(rows.length).toBeGreaterThan(2000);
    expectLabels(rows, expectedUsages(rows, records));
  });

  it('reading standard input, says to name the sidecar with -o cumma.sidecar:PATH', () => {
    // Standard input a file, as `tshark -r - < FILE` gives it (Node's pipes are sockets, which tshark refuses).
    const fromStdin = (args: readonly string[]): { status: number | null; stdout: string; stderr: string } => {
      const fd = openSync(simulated, 'r');
      try {
        return spawnSync('tshark', ['-X', `lua_script:${PLUGIN}`, '-r', '-', ...args], { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
      } finally {
        closeSync(fd);
      }
    };
    const run = fromStdin(['-Y', 'frame.number <= 3', '-V', '-O', 'cumma', '-o', 'cumma.port:1']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toContain('no labels: tshark reads standard input, which has no sidecar beside it (name one with -o cumma.sidecar:PATH)');
    const named = fromStdin(['-o', `cumma.sidecar:${simulated}.cumma.tsv`, '-T', 'fields', '-e', 'cumma.usage']);
    expect(named.stdout).toBe(tshark(['-r', simulated, '-T', 'fields', '-e', 'cumma.usage']).stdout);
  });

  it('describes every field (tshark -G fields)', () => {
    // -G must come first, before the plugin's -X.
    const listing = spawnSync('tshark', ['-G', 'fields', '-X', `lua_script:${PLUGIN}`], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    const names = ['usage', 'group', 'confidence', 'session', 'dialog', 'status', 'outlier', 'model', 'scores', 'source'].map((name) => `cumma.${name}`);
    const fields = listing.stdout.split('\n').map((line) => line.split('\t')).filter((cols) => cols[0] === 'F' && names.includes(cols[2] ?? ''));
    expect(fields.map((cols) => cols[2]).sort()).toEqual([...names].sort());
    for (const cols of fields) expect(cols[7], cols[2]).not.toBe('');
  });

  it('lists its expert notes in tshark -z expert when asked to label passes without a tree', () => {
    const capture = join(dir, 'notes.pcapng');
    copyFileSync(simulated, capture);
    const lines = readFileSync(`${simulated}.cumma.tsv`, 'utf8').trimEnd().split('\n');
    // Make two dialogs provisional and one unknown.
    const edited = lines.map((line, i) => (i === 1 || i === 2 ? line.replace(/\tfinal$/, '\tprovisional') : i === 3 ? line.replace(/\t[a-z_]+(\t[0-9.]+\t\d+\t\d+\t\w+)$/, '\tunknown$1') : line));
    writeFileSync(`${capture}.cumma.tsv`, `${edited.join('\n')}\n`);
    const withTree = tshark(['-r', capture, '-q', '-z', 'expert,note', '-Y', 'frame']);
    expectNoLuaError(withTree);
    expect(withTree.stdout).toMatch(/\d+ +Assumption +CUMMA +Cumma: provisional label/);
    expect(withTree.stdout).toMatch(/\d+ +Assumption +CUMMA +Cumma: usage unknown/);
    // No tree at all: only with the preference (on by default in the GUI, off in tshark).
    expect(tshark(['-r', capture, '-q', '-z', 'expert,note']).stdout).not.toContain('CUMMA');
    const always = tshark(['-r', capture, '-q', '-z', 'expert,note', '-o', 'cumma.notes_always:TRUE']);
    expect(always.stdout).toMatch(/\d+ +Assumption +CUMMA +Cumma: provisional label/);
    expect(always.stdout).toMatch(/\d+ +Assumption +CUMMA +Cumma: usage unknown/);
  });

  it('filters on the confidence shown: == and >= include the displayed value', () => {
    const shown = tshark(['-r', simulated, '-T', 'fields', '-e', 'cumma.confidence']).stdout.split('\n').filter((l) => l !== '');
    // One that single precision cannot hold exactly (0.9661, not 0.5): where a float field failed.
    const value = shown.find((v) => Math.fround(Number(v)) !== Number(v))!;
    const count = shown.filter((v) => v === value).length;
    expect(value).toMatch(/^[01](\.\d+)?$/);
    expect(tshark(['-r', simulated, '-Y', `cumma.confidence == ${value}`]).stdout.trim().split('\n').length).toBe(count);
    const atLeast = shown.filter((v) => Number(v) >= Number(value)).length;
    expect(tshark(['-r', simulated, '-Y', `cumma.confidence >= ${value}`]).stdout.trim().split('\n').length).toBe(atLeast);
  });

  it('finds the capture behind clustered short options (-nr FILE, -nrFILE) followed by a filter', () => {
    const expected = tshark(['-r', simulated, '-T', 'fields', '-e', 'cumma.usage', 'udp']).stdout;
    expect(expected.split('\n').filter((l) => l !== '').length).toBeGreaterThan(10);
    expect(tshark(['-nr', simulated, '-T', 'fields', '-e', 'cumma.usage', 'udp']).stdout).toBe(expected);
    expect(tshark([`-nr${simulated}`, '-T', 'fields', '-e', 'cumma.usage', 'udp']).stdout).toBe(expected);
  });

  it('finds the capture and -o values behind tshark options that take no value (-l, -g) or one (-S, -M)', () => {
    // tshark 4.0's -l and -g take no value: read as taking one, they hid -r, and the display
    // filter at the end was taken for the capture.
    const expected = tshark(['-r', simulated, '-T', 'fields', '-e', 'cumma.usage', 'udp']).stdout;
    expect(expected).toMatch(/voice_call/);
    for (const before of [['-l'], ['-g'], ['-lg'], ['-S', '-', '-M', '100000']]) {
      const run = tshark([...before, '-r', simulated, '-T', 'fields', '-e', 'cumma.usage', 'udp']);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stderr, before.join(' ')).not.toContain('no labels');
      expect(run.stdout, before.join(' ')).toBe(expected);
    }
    const bogus = tshark(['-l', '-r', simulated, '-c', '1', '-o', 'cumma.source:bogus']);
    expect(bogus.status, bogus.stderr).toBe(0);
    expect(bogus.stderr).toContain("cumma: -o cumma.source:bogus: 'bogus' is not a label source");
  });

  it.each([
    ['empty', ''],
    ['a header alone', `${SIDECAR_HEADER}\n`],
    ['only malformed lines', `${SIDECAR_HEADER}\nudp\t10.0.0.1\t5000\nudp\tx\n`],
  ])('a sidecar that is %s: "no labels: … holds no dialog" in the tree, then the agent is tried', (what, text) => {
    const capture = join(dir, `hollow-${what.replace(/\W+/g, '-')}.pcapng`);
    copyFileSync(simulated, capture);
    writeFileSync(`${capture}.cumma.tsv`, text);
    const run = tshark(['-r', capture, '-Y', 'frame.number == 1', '-V', '-O', 'cumma', '-o', 'cumma.port:1']);
    expectNoLuaError(run);
    const skipped = what === 'only malformed lines' ? ' (2 malformed line(s) skipped)' : '';
    expect(run.stdout).toContain(`Cumma: no labels: sidecar ${capture}.cumma.tsv holds no dialog${skipped}; agent 127.0.0.1:1 not reachable`);
  });

  it('reads a sidecar saved with a UTF-8 byte-order mark', () => {
    const capture = join(dir, 'bom.pcapng');
    copyFileSync(simulated, capture);
    writeFileSync(`${capture}.cumma.tsv`, `\ufeff${readFileSync(`${simulated}.cumma.tsv`, 'utf8')}`);
    const { rows, run } = readPackets(capture);
    expectNoLuaError(run);
    expectLabels(rows, expectedUsages(rows, records));
  });

  it('loaded twice (installed, and again with -X lua_script:): one notice, no Lua error, labels as once', () => {
    const home = join(dir, 'home');
    const plugins = join(home, '.local', 'lib', 'wireshark', 'plugins');
    const installed = cumma(['install-wireshark-plugin', '--dir', plugins]);
    expect(installed.status, installed.stderr).toBe(0);
    const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config') };
    const run = tshark(['-r', simulated, '-T', 'fields', '-e', 'cumma.usage'], env);
    expectNoLuaError(run);
    expect(run.stderr).toContain('the Cumma plugin is loaded twice');
    expect(run.stdout).toBe(tshark(['-r', simulated, '-T', 'fields', '-e', 'cumma.usage']).stdout);
  });

  it('with the source set to off: no cumma fields at all', () => {
    const run = tshark(['-r', simulated, '-o', 'cumma.source:off', '-Y', 'cumma', '-T', 'fields', '-e', 'frame.number']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
  });

  it('says on stderr that a source value Wireshark ignores is none of auto, agent, sidecar, off (even without a tree)', () => {
    // Wireshark keeps an enum preference's current value for a value it does not know, silently.
    const run = tshark(['-r', simulated, '-c', '1', '-o', 'cumma.source:bogus']);
    expect(run.status, run.stderr).toBe(0);
    expectNoLuaError(run);
    expect(run.stderr).toContain("cumma: -o cumma.source:bogus: 'bogus' is not a label source; use auto, agent, sidecar or off (Wireshark ignores the value: the source stays auto)");
    // The last valid value given wins in Wireshark; the bad one is still named.
    const later = tshark(['-r', simulated, '-c', '1', '-o', 'cumma.source: sidecr', '-o', 'cumma.source:off']);
    expect(later.stderr).toContain("cumma: -o cumma.source:sidecr: 'sidecr' is not a label source; use auto, agent, sidecar or off (Wireshark ignores the value: the source stays off)");
    // What Wireshark accepts (its names and texts, in any case) passes without a word.
    for (const good of ['Sidecar', 'OFF', '2', 'auto']) {
      const quiet = tshark(['-r', simulated, '-c', '1', '-o', `cumma.source:${good}`]);
      expect(quiet.stderr, good).not.toContain('is not a label source');
    }
  });
});
