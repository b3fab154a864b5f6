import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  bytes,
  enhancedPacket,
  ethernet,
  interfaceDescription,
  ipv4,
  ipv6,
  pcapHeader,
  pcapRecord,
  sectionHeader,
  tcp,
  udp,
  TCP_FLAGS,
} from '../support/capture-bytes';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist', 'cumma.js');

const FLOWS_USAGE_LINE = 'usage: cumma flows FILE [--format table|jsonl|csv] [--idle-timeout SECONDS] [--max-flows N] [--anonymize KEY | --anonymize-key-file FILE] [--stats]';
const CSV_HEADER = 'l4,client_ip,client_port,server_ip,server_port,first_us,last_us,packets_up,packets_down,bytes_up,bytes_down';

const { SYN, ACK, PSH } = TCP_FLAGS;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const LINKTYPE_ETHERNET = 1;

/** 2023-11-14T22:13:20Z in microseconds. */
const T0 = 1_700_000_000_000_000;

interface Frame {
  readonly timestampUs: number;
  readonly data: Uint8Array;
  readonly originalLength?: number;
}

/** 54 + payload bytes. */
const tcp4 = (src: string, srcPort: number, dst: string, dstPort: number, flags: number, payload = 0): Uint8Array =>
  ethernet(ETHERTYPE_IPV4, ipv4({ src, dst, protocol: 6, payload: tcp(srcPort, dstPort, flags, payload) }));
/** 42 + payload bytes. */
const udp4 = (src: string, srcPort: number, dst: string, dstPort: number, payload = 0): Uint8Array =>
  ethernet(ETHERTYPE_IPV4, ipv4({ src, dst, protocol: 17, payload: udp(srcPort, dstPort, payload) }));
/** 62 + payload bytes. */
const udp6 = (src: string, srcPort: number, dst: string, dstPort: number, payload = 0): Uint8Array =>
  ethernet(ETHERTYPE_IPV6, ipv6({ src, dst, nextHeader: 17, payload: udp(srcPort, dstPort, payload) }));

/** A TCP handshake plus data (10.0.0.9:50000 → 10.0.0.1:443) and a DNS exchange over IPv6. */
const SAMPLE: readonly Frame[] = [
  { timestampUs: T0, data: tcp4('10.0.0.9', 50000, '10.0.0.1', 443, SYN) }, // 54
  { timestampUs: T0 + 1_000, data: tcp4('10.0.0.1', 443, '10.0.0.9', 50000, SYN | ACK) }, // 54
  { timestampUs: T0 + 2_000, data: udp6('2001:db8::a', 5353, '2001:db8::53', 53, 38) }, // 100
  { timestampUs: T0 + 2_500, data: tcp4('10.0.0.9', 50000, '10.0.0.1', 443, PSH | ACK, 100) }, // 154
  { timestampUs: T0 + 3_000, data: udp6('2001:db8::53', 53, '2001:db8::a', 5353, 80) }, // 142
  { timestampUs: T0 + 1_500_000, data: tcp4('10.0.0.1', 443, '10.0.0.9', 50000, PSH | ACK, 1460), originalLength: 1514 + 4000 },
];

const SAMPLE_TCP_LINE =
  '{"l4":"tcp","client":{"ip":"10.0.0.9","port":50000},"server":{"ip":"10.0.0.1","port":443},' +
  '"firstUs":1700000000000000,"lastUs":1700000001500000,"packets":{"up":2,"down":2},"bytes":{"up":208,"down":5568}}';
const SAMPLE_UDP_LINE =
  '{"l4":"udp","client":{"ip":"2001:db8::a","port":5353},"server":{"ip":"2001:db8::53","port":53},' +
  '"firstUs":1700000000002000,"lastUs":1700000000003000,"packets":{"up":1,"down":1},"bytes":{"up":100,"down":142}}';

function pcapngBlocks(frames: readonly Frame[]): Uint8Array[] {
  return [
    sectionHeader(true),
    interfaceDescription(true, { linkType: LINKTYPE_ETHERNET }),
    ...frames.map((frame) =>
      enhancedPacket(true, { timestamp: BigInt(frame.timestampUs), data: frame.data, ...(frame.originalLength !== undefined ? { originalLength: frame.originalLength } : {}) }),
    ),
  ];
}

let dir = '';

function writeCapture(name: string, content: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

interface Result {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cumma(...args: string[]): Result {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');

beforeAll(() => {
  if (!existsSync(CLI)) {
    throw new Error(`${CLI} does not exist: run 'npm run build' first ('npm test' builds before running vitest)`);
  }
  dir = mkdtempSync(join(tmpdir(), 'cumma-flows-cli-'));
});

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('cumma flows output', () => {
  it('prints one JSON line per flow with exactly the fields of DESIGN.md, in first-packet order', () => {
    const file = writeCapture('sample.pcapng', bytes(...pcapngBlocks(SAMPLE)));
    const result = cumma('flows', file, '--format', 'jsonl');

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${SAMPLE_TCP_LINE}\n${SAMPLE_UDP_LINE}\n`);
    expect(Object.keys(JSON.parse(lines(result.stdout)[0]!) as object)).toStrictEqual(['l4', 'client', 'server', 'firstUs', 'lastUs', 'packets', 'bytes']);
  });

  it('prints jsonl by default when stdout is not a terminal', () => {
    const file = writeCapture('default.pcapng', bytes(...pcapngBlocks(SAMPLE)));
    const result = cumma('flows', file);

    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${SAMPLE_TCP_LINE}\n${SAMPLE_UDP_LINE}\n`);
  });

  it('prints a CSV header and one row per flow with --format csv', () => {
    const file = writeCapture('csv.pcapng', bytes(...pcapngBlocks(SAMPLE)));
    const result = cumma('flows', file, '--format', 'csv');

    expect(result.status).toBe(0);
    expect(lines(result.stdout)).toStrictEqual([
      CSV_HEADER,
      'tcp,10.0.0.9,50000,10.0.0.1,443,1700000000000000,1700000001500000,2,2,208,5568',
      'udp,2001:db8::a,5353,2001:db8::53,53,1700000000002000,1700000000003000,1,1,100,142',
    ]);
  });

  it('prints a table with a header line and one row per flow with --format table', () => {
    const file = writeCapture('table.pcapng', bytes(...pcapngBlocks(SAMPLE)));
    const result = cumma('flows', file, '--format', 'table');

    expect(result.status).toBe(0);
    const [header, tcpRow, udpRow, ...rest] = lines(result.stdout);
    expect(rest).toStrictEqual([]);
    const cells = (line: string | undefined): string[] => (line ?? '').trim().split(/\s{2,}/);
    expect(cells(header)).toStrictEqual(['L4', 'CLIENT', 'SERVER', 'START (UTC)', 'DURATION', 'PKTS UP', 'PKTS DOWN', 'BYTES UP', 'BYTES DOWN']);
    expect(cells(tcpRow)).toStrictEqual(['tcp', '10.0.0.9:50000', '10.0.0.1:443', '2023-11-14T22:13:20.000000Z', '1.500s', '2', '2', '208', '5568']);
    expect(cells(udpRow)).toStrictEqual(['udp', '[2001:db8::a]:5353', '[2001:db8::53]:53', '2023-11-14T22:13:20.002000Z', '0.001s', '1', '1', '100', '142']);
  });

  it('reads classic pcap files as well', () => {
    const records = SAMPLE.map((frame) =>
      pcapRecord(false, Math.floor(frame.timestampUs / 1e6), frame.timestampUs % 1e6, frame.data, frame.originalLength ?? frame.data.length),
    );
    const file = writeCapture('sample.pcap', bytes(pcapHeader({ littleEndian: false, linkType: LINKTYPE_ETHERNET }), ...records));
    const result = cumma('flows', file);

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${SAMPLE_TCP_LINE}\n${SAMPLE_UDP_LINE}\n`);
  });

  it('prints packet and flow counts as one JSON line on stderr with --stats, leaving stdout to the flows', () => {
    const arp: Frame = { timestampUs: T0 + 10, data: ethernet(0x0806, new Uint8Array(28)) };
    const file = writeCapture('stats.pcapng', bytes(...pcapngBlocks([...SAMPLE, arp])));
    const result = cumma('flows', file, '--stats');

    expect(result.status).toBe(0);
    expect(lines(result.stdout)).toHaveLength(2);
    const stderrLines = lines(result.stderr);
    expect(stderrLines).toHaveLength(1);
    const stats = JSON.parse(stderrLines[0]!) as Record<string, unknown>;
    expect(stats).toMatchObject({
      file,
      packets: 7,
      flowPackets: 6,
      notIp: 1,
      otherIp: 0,
      truncated: 0,
      fragmentsAttributed: 0,
      fragmentsUnattributed: 0,
      flowsEmitted: 2,
      flowsEvicted: 0,
    });
    expect(typeof stats.seconds).toBe('number');
    expect(stats.peakRssBytes).toEqual(expect.any(Number));
    expect(stats.peakRssBytes as number).toBeGreaterThan(0);
  });

  it('says on stderr how many packets had a link type it cannot decode, and still exits 0', () => {
    const file = writeCapture(
      'user-link.pcapng',
      bytes(
        sectionHeader(true),
        interfaceDescription(true, { linkType: 147 }),
        enhancedPacket(true, { timestamp: BigInt(T0), data: new Uint8Array(20) }),
        enhancedPacket(true, { timestamp: BigInt(T0 + 1), data: new Uint8Array(20) }),
      ),
    );
    const result = cumma('flows', file);

    expect(result.status).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`cumma: ${file}: 2 packets with user-defined (147) framing were not decoded (unsupported link type 147)\n`);
  });

  it('splits flows at the --idle-timeout given in seconds', () => {
    const frames: Frame[] = [
      { timestampUs: T0, data: udp4('10.0.0.9', 4000, '10.0.0.1', 53) },
      { timestampUs: T0 + 2_000_000, data: udp4('10.0.0.9', 4000, '10.0.0.1', 53) },
    ];
    const file = writeCapture('idle.pcapng', bytes(...pcapngBlocks(frames)));

    expect(lines(cumma('flows', file, '--idle-timeout', '1.5').stdout)).toHaveLength(2);
    expect(lines(cumma('flows', file, '--idle-timeout', '2').stdout)).toHaveLength(1);
  });

  it('prints the least recently active flow early when more than --max-flows are open', () => {
    const frames: Frame[] = [
      { timestampUs: T0, data: udp4('10.0.0.9', 1111, '10.0.0.1', 53) },
      { timestampUs: T0 + 1, data: udp4('10.0.0.9', 2222, '10.0.0.1', 53) },
      { timestampUs: T0 + 2, data: udp4('10.0.0.9', 1111, '10.0.0.1', 53) },
    ];
    const file = writeCapture('max-flows.pcapng', bytes(...pcapngBlocks(frames)));
    const result = cumma('flows', file, '--max-flows', '1', '--stats');

    expect(result.status).toBe(0);
    expect(lines(result.stdout).map((line) => (JSON.parse(line) as { client: { port: number } }).client.port)).toStrictEqual([1111, 2222, 1111]);
    expect(JSON.parse(lines(result.stderr)[0]!) as object).toMatchObject({ flowsEvicted: 2, flowsEmitted: 3 });
  });
});

describe('cumma flows errors', () => {
  it('exits 1 naming the file when it does not exist', () => {
    const file = join(dir, 'no-such-capture.pcapng');
    const result = cumma('flows', file);

    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^cumma flows: error: .*no-such-capture\.pcapng: byte offset 0: cannot read: ENOENT[^\n]* \[CAPTURE_IO\]\n$/);
    expect(result.stderr.startsWith(`cumma flows: error: ${file}: `)).toBe(true);
  });

  it('exits 1 at a block with a bad trailer, naming its byte offset, after printing the flows read before it', () => {
    const before: Frame[] = [
      { timestampUs: T0, data: udp4('10.0.0.9', 4000, '10.0.0.1', 53, 10) }, // 52
      { timestampUs: T0 + 5, data: udp4('10.0.0.1', 53, '10.0.0.9', 4000, 20) }, // 62
    ];
    const blocks = pcapngBlocks(before);
    const goodPrefix = bytes(...blocks);
    const corrupt = enhancedPacket(true, { timestamp: BigInt(T0 + 10), data: udp4('10.0.0.7', 4001, '10.0.0.1', 53) });
    const length = corrupt.length;
    new DataView(corrupt.buffer, corrupt.byteOffset).setUint32(length - 4, length + 4, true);
    const after = enhancedPacket(true, { timestamp: BigInt(T0 + 20), data: udp4('10.0.0.8', 4002, '10.0.0.1', 53) });
    const file = writeCapture('bad-trailer.pcapng', bytes(goodPrefix, corrupt, after));
    const result = cumma('flows', file);

    expect(result.status).toBe(1);
    expect(lines(result.stdout)).toStrictEqual([
      '{"l4":"udp","client":{"ip":"10.0.0.9","port":4000},"server":{"ip":"10.0.0.1","port":53},' +
        '"firstUs":1700000000000000,"lastUs":1700000000000005,"packets":{"up":1,"down":1},"bytes":{"up":52,"down":62}}',
    ]);
    expect(result.stderr).toBe(
      `cumma flows: error: ${file}: byte offset ${goodPrefix.length}: block type 0x6 starts with length ${length} but ends with ${length + 4} [CAPTURE_TRAILER_MISMATCH]\n`,
    );
  });

  it('exits 1 when the file ends inside a block, naming the block offset, after printing the flows read before it', () => {
    const goodPrefix = bytes(...pcapngBlocks([{ timestampUs: T0, data: udp4('10.0.0.9', 4000, '10.0.0.1', 53, 10) }]));
    const cut = enhancedPacket(true, { timestamp: BigInt(T0 + 10), data: udp4('10.0.0.9', 4000, '10.0.0.1', 53) });
    const file = writeCapture('truncated.pcapng', bytes(goodPrefix, cut.subarray(0, 30)));
    const result = cumma('flows', file, '--format', 'csv');

    expect(result.status).toBe(1);
    expect(lines(result.stdout)).toStrictEqual([CSV_HEADER, 'udp,10.0.0.9,4000,10.0.0.1,53,1700000000000000,1700000000000000,1,0,52,0']);
    expect(result.stderr).toBe(
      `cumma flows: error: ${file}: byte offset ${goodPrefix.length}: input ends inside a block: 30 of ${cut.length} bytes present [CAPTURE_TRUNCATED]\n`,
    );
  });

  it('exits 1 on a file that is not a capture', () => {
    const file = writeCapture('notes.txt', new TextEncoder().encode('hello, this is not a capture\n'));
    const result = cumma('flows', file);

    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`cumma flows: error: ${file}: byte offset 0: not a pcap or pcapng capture (starts with 0x68656c6c, "hell": text, not a capture) [CAPTURE_UNKNOWN_FORMAT]\n`);
  });

  it('says a tab-separated file is text too (a .cumma.tsv sidecar given by mistake)', () => {
    const file = writeCapture('labels.cumma.tsv', new TextEncoder().encode('l4\tclient_ip\tclient_port\n'));
    const result = cumma('flows', file);

    expect(result.status).toBe(1);
    expect(result.stderr).toContain('(starts with 0x6c340963, "l4\\tc": text, not a capture)');
  });

  it.each([
    [['flows'], 'cumma flows: flows needs a capture FILE'],
    [['flows', 'a.pcapng', 'b.pcapng'], 'cumma flows: flows takes exactly one FILE'],
    [['flows', 'a.pcapng', '--format', 'xml'], "cumma flows: --format must be one of table, jsonl, csv; got 'xml'"],
    [['flows', 'a.pcapng', '--idle-timeout=0'], "cumma flows: --idle-timeout expects a positive number, got '0'"],
    [['flows', 'a.pcapng', '--max-flows', 'many'], "cumma flows: --max-flows expects a positive whole number, got 'many'"],
  ])('exits 2 with the usage text for %j', (args, message) => {
    const result = cumma(...args);

    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.startsWith(`${message}\n\n${FLOWS_USAGE_LINE}\n`)).toBe(true);
  });

  it('exits 2 with the usage text for an unknown option', () => {
    const result = cumma('flows', 'a.pcapng', '--colour');

    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^cumma flows: .*'--colour'/);
    expect(result.stderr).toContain(`\n\n${FLOWS_USAGE_LINE}\n`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 with the command list for an unknown command', () => {
    const result = cumma('flow', 'a.pcapng');

    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^cumma: unknown command 'flow'\n\nusage: cumma COMMAND \[options\]\n/);
    expect(result.stderr).toContain('flows FILE');
  });

  it('prints the usage text on stdout and exits 0 for flows --help', () => {
    const result = cumma('flows', '--help');

    expect(result.status).toBe(0);
    expect(result.stdout.startsWith(`${FLOWS_USAGE_LINE}\n`)).toBe(true);
    expect(result.stderr).toBe('');
  });
});

describe('cumma flows with a reader that goes away', () => {
  it('exits 0 without a stack trace when stdout is closed after the first line, like `| head -1`', async () => {
    // 20 000 one-packet flows make about 4 MB of jsonl: far more than a pipe holds.
    const frames: Frame[] = [];
    for (let index = 0; index < 20_000; index++) {
      frames.push({ timestampUs: T0 + index, data: udp4(`10.${index >> 16}.${(index >> 8) & 0xff}.${index & 0xff}`, 40000, '192.0.2.1', 53) });
    }
    const file = writeCapture('many-flows.pcapng', bytes(...pcapngBlocks(frames)));

    const child = spawn(process.execPath, [CLI, 'flows', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('\n')) child.stdout.destroy();
    });
    const code = await new Promise<number | null>((resolveExit, reject) => {
      child.on('error', reject);
      child.on('close', (exitCode) => resolveExit(exitCode));
    });

    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout.split('\n')[0]!) as object).toMatchObject({ client: { ip: '10.0.0.0', port: 40000 } });
    expect(stdout.length).toBeLessThan(3_000_000); // the reader did leave early
  });
});
