// Integration test: starts real dumpcap, real TLS/UDP servers and clients on 127.0.0.1, and
// checks the recording with Wireshark's own tools (tshark) and with `cumma flows` against the
// foundation's tshark reference. Needs dumpcap, tshark, openssl, capture rights on lo (root or
// CAP_NET_RAW) and dist/ built (`npm test` builds it).

import { execFile, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCaptureFile } from '../../agent/src/capture/file-reader';
import { sealedBytesFor } from '../../agent/src/record/datagram-sealer';
import { explainDumpcapFailure } from '../../agent/src/record/dumpcap-diagnostics';
import { RecordError } from '../../agent/src/record/errors';
import { RecordSummary, recordUsage } from '../../agent/src/record/record';
import { runRecord } from '../../agent/src/record/record-command';
import { TruthRecord } from '../../agent/src/truth/truth-sidecar';
import { formatTruthComment as truthComment } from '../../agent/src/truth/truth-comment';
import { assertCliBuilt, runCummaFlowsJsonl } from '../../scripts/lib/cumma-cli';
import {
  addToAggregate,
  aggregateCummaJsonl,
  compareAggregates,
  describeTotals,
  emptyAggregate,
  orientTuple,
  tsharkReference,
  type TupleAggregate,
} from '../../scripts/lib/tshark-flows';
import { findOnPath, requireTools, toolsRequiredByEnv } from '../support/tools';
import { CALL_DATAGRAMS, PUSH_BYTES, TAGS, TEXT_BYTES, TILE_BYTES, callSize, longChatScript, mixedScript } from './scripts';

const REPO_ROOT = resolve(__dirname, '../..');
const CLI = process.env.CUMMA_CLI ?? join(REPO_ROOT, 'dist', 'cumma.js');
const SPEED = 3;

const tools = requireTools('dumpcap', 'tshark', 'openssl');
const certificateTool = requireTools('openssl');

/**
 * Why this user may not capture on lo, or undefined. Root always may; anyone else only when
 * dumpcap has CAP_NET_RAW (setcap, or Debian's wireshark group): a 1 s probe capture tells.
 */
function captureRightsProblem(): string | undefined {
  const dumpcap = findOnPath('dumpcap');
  if (process.getuid?.() === 0 || dumpcap === undefined) return undefined;
  const probe = spawnSync(dumpcap, ['-i', 'lo', '-p', '-a', 'duration:1', '-w', '/dev/null'], { encoding: 'utf8', timeout: 10_000 });
  return probe.status === 0 ? undefined : explainDumpcapFailure(probe.stderr, probe.status, 'lo').message;
}

const rightsProblem = tools.skip ? undefined : captureRightsProblem();
// Without capture rights the recorder cannot run: skip loudly, unless CI demands every tool.
const skipRecorder = tools.skip || (rightsProblem !== undefined && !toolsRequiredByEnv());
if (rightsProblem !== undefined && skipRecorder) console.warn(`SKIPPED recorder integration tests: ${rightsProblem}`);

function tshark(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    execFile('tshark', args, { maxBuffer: 64 << 20, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`tshark ${args.join(' ')}: ${error.message} ${stderr}`));
      else resolvePromise({ stdout, stderr });
    });
  });
}

/** tshark's stderr without its warning about running as root. */
function tsharkComplaints(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.trim() !== '' && !/Running as user "root"/.test(line));
}

async function fields(file: string, filter: string, names: string[]): Promise<string[][]> {
  const { stdout } = await tshark(['-n', '-r', file, '-Y', filter, '-T', 'fields', ...names.flatMap((n) => ['-e', n])]);
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t'));
}

function readTruth(file: string): TruthRecord[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as TruthRecord);
}

/** The truth sidecar folded per unordered 5-tuple, comparable with the tshark reference. */
function truthAggregate(records: readonly TruthRecord[]): TupleAggregate {
  const agg = emptyAggregate();
  for (const r of records) {
    const tuple = orientTuple(r.l4, r.client, r.server);
    const times = { firstUs: r.startUs, lastUs: r.endUs };
    addToAggregate(agg, tuple, { packets: r.packets.up, bytes: r.bytes.up, ...times });
    addToAggregate(agg, { ...tuple, forward: !tuple.forward }, { packets: r.packets.down, bytes: r.bytes.down, ...times });
  }
  return agg;
}

function differences(reference: TupleAggregate, other: TupleAggregate): string[] {
  const c = compareAggregates(reference, other);
  return [
    ...c.disagreeing.map((d) => `differs ${d.key}: ${d.details.join('; ')}`),
    ...c.missing.map((t) => `missing: ${describeTotals(t)}`),
    ...c.extra.map((t) => `extra: ${describeTotals(t)}`),
  ];
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** An executable shell script standing in for dumpcap. */
function fakeDumpcap(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

async function expectRecordError(promise: Promise<unknown>, code: RecordError['code']): Promise<RecordError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RecordError);
  expect((error as RecordError).code).toBe(code);
  return error as RecordError;
}

// These need no dumpcap and no capture rights: dumpcap is absent or a stand-in script.
describe.skipIf(certificateTool.skip)('recordUsage when dumpcap is missing or fails at once (integration: TLS certificate, servers)', () => {
  let failDir = '';

  beforeAll(() => {
    certificateTool.assertAvailable();
    failDir = mkdtempSync(join(tmpdir(), 'cumma-record-fail-'));
  });

  afterAll(() => {
    if (failDir !== '') rmSync(failDir, { recursive: true, force: true });
  });

  it('reports a missing dumpcap with what to install, and writes nothing', async () => {
    const output = join(failDir, 'missing.pcapng');
    const error = await expectRecordError(recordUsage({ script: mixedScript(), output, speed: SPEED, dumpcapPath: '/nonexistent/dumpcap' }), 'RECORD_DUMPCAP_MISSING');
    expect(error.message).toContain('apt-get install tshark');
    expect(existsSync(output)).toBe(false);
    expect(existsSync(`${output}.truth.jsonl`)).toBe(false);
  });

  it('reports dumpcap dying at start with its stderr', async () => {
    const broken = fakeDumpcap(failDir, 'dying-dumpcap', 'echo "dumpcap: The capture session could not be initiated (simulated)." >&2\nexit 2');
    const error = await expectRecordError(recordUsage({ script: mixedScript(), output: join(failDir, 'dying.pcapng'), speed: SPEED, dumpcapPath: broken }), 'RECORD_DUMPCAP_FAILED');
    expect(error.message).toBe('dumpcap exited with code 2: dumpcap: The capture session could not be initiated (simulated). [RECORD_DUMPCAP_FAILED]');
  });
});

describe.skipIf(skipRecorder)('recordUsage on the loopback interface (integration: dumpcap, TLS and UDP servers)', () => {
  let dir = '';
  let file = '';
  let summary: RecordSummary;
  let dumpcapPid = 0;

  beforeAll(async () => {
    tools.assertAvailable();
    if (rightsProblem !== undefined) throw new Error(rightsProblem);
    dir = mkdtempSync(join(tmpdir(), 'cumma-record-test-'));
    file = join(dir, 'mixed.pcapng');
    summary = await recordUsage({
      script: mixedScript(),
      output: file,
      speed: SPEED,
      onProgress: (line) => {
        const pid = /dumpcap pid (\d+)/.exec(line);
        if (pid) dumpcapPid = Number(pid[1]);
      },
    });
    console.info(`recorded ${summary.packets} packets in ${summary.wallMs} ms (replay ${summary.replayMs} ms, capture confirmed after ${summary.startupMs} ms, latest send ${summary.maxLateUs} µs late, smallest stamp-to-capture gap ${summary.stampGapUs} µs, clock offset ${summary.clockOffsetUs} µs)`);
  }, 30_000);

  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('replays every byte and datagram, loses nothing in dumpcap, and leaves no dumpcap running', () => {
    expect(summary.tlsBytes.received).toBe(summary.tlsBytes.sent);
    expect(summary.udpDatagrams).toEqual({ sent: CALL_DATAGRAMS + 2, received: CALL_DATAGRAMS + 2 });
    expect(summary.udpEnlarged).toBe(2); // 20 and 25 bytes are below the 28-byte GCM overhead + 1
    expect(summary.dumpcap?.dropped).toBe(0);
    expect(summary.dumpcap?.captured).toBe(summary.packets + summary.controlPackets);
    expect(summary.foreignPackets).toBe(0);
    expect(summary.connections).toBe(5);
    // Real time at speed 3: 3 s of script take about 1 s.
    expect(summary.replayMs).toBeGreaterThanOrEqual(1000);
    expect(summary.replayMs).toBeLessThan(3000);
    expect(dumpcapPid).toBeGreaterThan(0);
    expect(isAlive(dumpcapPid)).toBe(false);
  });

  it('comments every packet with its truth, as cumma reads the file', () => {
    const comments: string[] = [];
    let packets = 0;
    readCaptureFile(file, (packet) => {
      packets++;
      expect(packet.comments).toHaveLength(1);
      comments.push(packet.comments[0]!);
    });
    expect(packets).toBe(summary.packets);
    for (const comment of comments) expect(comment).toMatch(/^cumma:usage=[a-z_]+ session=\d+ dialog=\d+$/);
    expect(new Set(comments)).toEqual(new Set(Object.values(TAGS).map(truthComment)));
  });

  it('opens in tshark without complaints or malformed packets, and tshark shows the labels', async () => {
    // The sealed UDP payloads are random bytes: on some of the ephemeral ports the recorder
    // happens to pick, tshark guesses a protocol (once an ISO CLTP "UD TPDU") and calls the
    // random bytes malformed. Those datagrams are data; TCP/TLS keeps its own dissection.
    const udpPorts = new Set((await fields(file, 'udp', ['udp.srcport', 'udp.dstport'])).flat());
    const asData = [...udpPorts].flatMap((port) => ['-d', `udp.port==${port},data`]);
    const malformed = await tshark(['-r', file, ...asData, '-Y', '_ws.malformed']);
    expect(malformed.stdout).toBe('');
    expect(tsharkComplaints(malformed.stderr)).toEqual([]);
    // Missing packets would show as TCP segments that were never seen or ACKs of unseen data.
    expect(await fields(file, 'tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment', ['frame.number'])).toEqual([]);
    const labels = await fields(file, 'frame.comment', ['frame.comment']);
    expect(labels).toHaveLength(summary.packets);
    expect(new Set(labels.map(([c]) => c))).toEqual(new Set(Object.values(TAGS).map(truthComment)));
  });

  it('carries TLS 1.3 application data as opaque records (type 23) of the script\'s sizes, with the message\'s label', async () => {
    const records = await fields(file, 'tls.record.opaque_type == 23', ['tcp.stream', 'tls.record.length', 'frame.comment']);
    expect(new Set(records.map(([stream]) => stream)).size).toBe(3); // every TLS connection
    // TLS 1.3 adds 1 content-type byte and a 16-byte AEAD tag to each record's plaintext.
    const recordOf = (bytes: number): string[] | undefined => records.find(([, lengths]) => lengths!.split(',').includes(String(bytes + 17)));
    expect(recordOf(TEXT_BYTES)?.[2]).toBe(truthComment(TAGS.text));
    expect(recordOf(TILE_BYTES)?.[2]).toBe(truthComment(TAGS.tiles));
    const handshakes = await fields(file, 'tls.handshake.type == 1', ['frame.comment']);
    expect(handshakes.map(([c]) => c).sort()).toEqual([TAGS.chatSetup, TAGS.photo, TAGS.tilesSetup].map(truthComment).sort());
  });

  it('labels the close of a connection with its setup truth', async () => {
    const fins = await fields(file, 'tcp.flags.fin == 1', ['frame.comment']);
    expect(fins.map(([c]) => c).sort()).toEqual([TAGS.photo, TAGS.photo, TAGS.tilesSetup, TAGS.tilesSetup].map(truthComment).sort());
  });

  it('sends UDP payloads of the script\'s sizes, sealed (overhead + 1 byte at least)', async () => {
    const datagrams = await fields(file, 'udp', ['udp.stream', 'udp.length', 'frame.comment']);
    // The call and the push flow overlap in time: compare each flow's datagrams in order.
    const flow = (stream: string): string[][] => datagrams.filter(([s]) => s === stream).map(([, length, comment]) => [String(Number(length) - 8), comment!]);
    const call = Array.from({ length: CALL_DATAGRAMS }, (_, i) => [String(sealedBytesFor(callSize(i))), truthComment(TAGS.call)]);
    expect(flow('0')).toEqual(call);
    expect(flow('1')).toEqual([
      [String(PUSH_BYTES), truthComment(TAGS.push)],
      ['80', truthComment(TAGS.push)],
    ]);
  });

  it('agrees with tshark per 5-tuple in `cumma flows`, and the truth sidecar sums to the same totals', async () => {
    assertCliBuilt(CLI);
    const [reference, jsonl] = await Promise.all([tsharkReference(file), runCummaFlowsJsonl(CLI, file)]);
    const cumma = aggregateCummaJsonl(jsonl);
    expect(reference.tuples.size).toBe(5);
    expect(differences(reference, cumma)).toEqual([]);
    expect(cumma.problems).toEqual([]);
    const truth = readTruth(`${file}.truth.jsonl`);
    expect(truth).toHaveLength(summary.truthRecords);
    expect(differences(reference, truthAggregate(truth))).toEqual([]);
    expect(truth.map((r) => `${r.usage}/${r.dialog}`).sort()).toEqual(Object.values(TAGS).map((t) => `${t.usage}/${t.dialog}`).sort());
    for (const r of truth) expect(r.capture).toBe('mixed.pcapng');
    // Each truth line names its flow's ends in the order `cumma flows` does (the push flow
    // starts with the server's datagram, so there the server is the client).
    const endpoints = (r: { l4: string; client: { port: number }; server: { port: number } }): string => `${r.l4} ${r.client.port}>${r.server.port}`;
    const flowEnds = new Set(jsonl.split('\n').filter((l) => l !== '').map((l) => endpoints(JSON.parse(l) as TruthRecord)));
    for (const r of truth) expect(flowEnds).toContain(endpoints(r));
    const push = truth.find((r) => r.usage === 'other' && r.session === 0)!;
    expect(push.packets).toEqual({ up: 1, down: 1 });
    expect(push.bytes.up).toBe(14 + 20 + 8 + PUSH_BYTES);
  });

  it('runs as `cumma record` once a script builder is wired in', async () => {
    const output = join(dir, 'command.pcapng');
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let printed = '';
    stdout.setEncoding('utf8').on('data', (text: string) => (printed += text));
    stderr.resume();
    const code = await runRecord(['--usage', 'text', '--duration', '3', '--speed', '4', '-o', output], { stdout, stderr }, {
      apps: ['whatsapp'],
      buildScript: () => mixedScript(),
    });
    expect(code).toBe(0);
    expect(printed).toMatch(/^recorded text \(whatsapp\) into .*command\.pcapng: \d+ packets/);
    expect(readTruth(`${output}.truth.jsonl`).length).toBeGreaterThan(0);
  });

  it('stops the replay when dumpcap stops in the middle of it', async () => {
    // The real dumpcap, told to stop after 1 s of a 3 s replay (a later -a duration wins).
    const early = fakeDumpcap(dir, 'early-dumpcap', `exec "${findOnPath('dumpcap')}" "$@" -a duration:1`);
    const started = Date.now();
    const error = await expectRecordError(
      recordUsage({ script: mixedScript(), output: join(dir, 'early.pcapng'), speed: 1, dumpcapPath: early }),
      'RECORD_DUMPCAP_FAILED',
    );
    expect(error.message).toContain('dumpcap stopped capturing before the recording was done');
    expect(Date.now() - started).toBeLessThan(2800);
  }, 20_000);

  it.skipIf(process.getuid?.() !== 0 || findOnPath('setpriv') === undefined)(
    'names the missing capability when dumpcap runs without capture rights',
    async () => {
      // The real dumpcap as user nobody, without capabilities: the situation of a normal user.
      const unprivileged = fakeDumpcap(dir, 'nobody-dumpcap', `exec setpriv --reuid=65534 --regid=65534 --clear-groups "${findOnPath('dumpcap')}" "$@"`);
      const error = await expectRecordError(
        recordUsage({ script: mixedScript(), output: join(dir, 'nobody.pcapng'), speed: SPEED, dumpcapPath: unprivileged }),
        'RECORD_CAPTURE_PERMISSION',
      );
      expect(error.message).toContain('lacks CAP_NET_RAW');
      expect(error.message).toContain('setcap cap_net_raw,cap_net_admin=eip');
    },
  );

  it('stops dumpcap and cleans up when the recording process gets SIGINT', async () => {
    const childDir = mkdtempSync(join(dir, 'child-'));
    const bundle = join(childDir, 'record-child.js');
    buildSync({ entryPoints: [join(__dirname, 'fixtures', 'record-child.ts')], bundle: true, platform: 'node', target: 'node20', outfile: bundle, logLevel: 'warning' });
    const scriptPath = join(childDir, 'script.json');
    writeFileSync(scriptPath, JSON.stringify(longChatScript(20)));
    const childTmp = mkdtempSync(join(childDir, 'tmp-'));
    const output = join(childDir, 'interrupted.pcapng');
    const child = spawn(process.execPath, [bundle, scriptPath, output], { env: { ...process.env, TMPDIR: childTmp }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const pid = await new Promise<number>((resolvePid, reject) => {
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (text: string) => {
        stderr += text;
        const match = /dumpcap pid (\d+)/.exec(stderr);
        if (match) resolvePid(Number(match[1]));
      });
      child.on('exit', () => reject(new Error(`child exited before capturing: ${stderr}`)));
    });
    expect(isAlive(pid)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('recording interrupted by SIGINT [RECORD_INTERRUPTED]');
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(output)).toBe(false);
    expect(readdirSync(childDir).filter((name) => name.startsWith('interrupted'))).toEqual([]);
    expect(readdirSync(childTmp)).toEqual([]);
  }, 30_000);
});
