// `npm run bench`: cumma's flow extraction against its peers on one synthetic capture.
//
// Usage: node dist/bench.js [--packets N] [--flows N] [--seed N] [--runs N]
//   --packets N  packets in the capture (default 1000000)
//   --flows N    flows in the capture (default 20000)
//   --seed N     generator seed (default 1)
//   --runs N     timed runs per tool; the best wall time counts (default 3)
//
// The capture is generated once and cached under .cache/bench/. Each tool runs as a user would
// run it; peers that are not installed are reported, not fatal. Exit code 0 when cumma ran,
// counted the planned flows and met every target that could be checked; 1 otherwise; 2 for
// bad arguments.

import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { BenchOptions, parseBenchOptions } from './lib/bench-options';
import { CachedCapture, cachedSyntheticCapture } from './lib/capture-cache';
import { checkInterrupted, exitWhenInterrupted, exitWhenStdoutCloses, removeScratchFolder, scratchFolder } from './lib/interruptible';
import { CommandFailed, gnuTimeAvailable, Measurement, MeasuringEnvironment, measure, measureBest, measuringEnvironment, nodeStartSeconds, which } from './lib/measure';
import { countTsharkConversations, ndpiUniqueFlows } from './lib/peer-output';
import { SyntheticCaptureSummary } from './lib/synthetic-capture';

// dist/bench.js → the repository root is one level up.
const REPO_ROOT = resolve(__dirname, '..');
const CLI = join(REPO_ROOT, 'dist', 'cumma.js');
const CACHE_DIR = join(REPO_ROOT, '.cache', 'bench');

/** The targets this benchmark exists to check. */
const TARGET_WALL_RATIO = 0.25;
const TARGET_PEAK_RSS_MB = 300;

type Options = BenchOptions;

interface FlowCount {
  total: number;
  tcp?: number;
  udp?: number;
}

interface ToolResult {
  name: string;
  /** As shown to the reader, with FILE for the capture path. */
  display: string;
  /** Undefined when the tool is missing or failed (then `note` says which). */
  measurement?: Measurement;
  /**
   * cumma only, when the measuring environment left variables out: the same command in this
   * shell's own environment, printed beside it.
   */
  asShellRunsIt?: Measurement;
  flows?: FlowCount;
  note?: string;
}

function parseOptions(argv: string[]): Options {
  return parseBenchOptions(argv, { packets: 1_000_000, flows: 20_000, seed: 1, runs: 3 }, 'usage: node dist/bench.js [--packets N] [--flows N] [--seed N] [--runs N]');
}

/**
 * Why the environment variables measuringEnvironment() left out are left out, with what they
 * cost here: Node.js's own start, with and without them.
 */
function describeLeftOut(environment: MeasuringEnvironment, runs: number): string {
  const names = environment.removed.join(', ');
  const withThem = nodeStartSeconds(process.env, Math.max(5, runs));
  const without = nodeStartSeconds(environment.env, Math.max(5, runs));
  return [
    `(the tools above and cumma classify below ran without ${names}, which this shell sets: Node.js reads and parses those certificates`,
    ` at every start, before any script runs: node -e 0 takes ${withThem.toFixed(3)} s with it, ${without.toFixed(3)} s without.`,
    ' No tool here makes a TLS connection, and a fresh machine does not set it; the target is checked on the run without it.)',
  ].join('\n');
}

/** Reads the file once so every tool starts from the same warm page cache. */
function warmPageCache(path: string): void {
  const fd = openSync(path, 'r');
  const buffer = Buffer.allocUnsafe(4 << 20);
  try {
    while (readSync(fd, buffer, 0, buffer.length, null) > 0) {
      // reading is the point
    }
  } finally {
    closeSync(fd);
  }
}

/** A peer tool: how to run it on the capture and how to read its flow count. */
interface PeerSpec {
  name: string;
  command: string;
  args: (capture: string) => string[];
  display: string;
  countFlows: (stdout: string) => FlowCount | undefined;
}

const PEERS: readonly PeerSpec[] = [
  {
    // Its default output is a summary (no per-flow lines without -v); -q would hide the counts.
    name: 'ndpiReader',
    command: 'ndpiReader',
    args: (f) => ['-i', f],
    display: 'ndpiReader -i FILE',
    countFlows: (o) => {
      const total = ndpiUniqueFlows(o);
      return total === undefined ? undefined : { total };
    },
  },
  {
    name: 'tshark',
    command: 'tshark',
    args: (f) => ['-q', '-z', 'conv,tcp', '-z', 'conv,udp', '-r', f],
    display: 'tshark -q -z conv,tcp -z conv,udp -r FILE',
    countFlows: (o) => {
      const c = countTsharkConversations(o);
      return { total: c.tcp + c.udp, tcp: c.tcp, udp: c.udp };
    },
  },
];

/** Runs a peer; its (small) report goes to a scratch file so its flow count can be read. */
function benchPeer(peer: PeerSpec, capture: string, scratch: string, options: Options, useGnuTime: boolean, environment: MeasuringEnvironment): ToolResult {
  const result: ToolResult = { name: peer.name, display: peer.display };
  if (which(peer.command) === undefined) {
    result.note = 'not installed';
    return result;
  }
  const stdoutPath = join(scratch, `${peer.name}.txt`);
  try {
    result.measurement = measureBest(peer.command, peer.args(capture), stdoutPath, useGnuTime, options.runs, environment.env);
    result.flows = peer.countFlows(readFileSync(stdoutPath, 'utf8'));
  } catch (error) {
    if (!(error instanceof CommandFailed)) throw error;
    result.note = `failed: ${error.detail}`;
  }
  return result;
}

/** Flows in cumma's jsonl: one record a line, l4 per DESIGN.md. */
function countJsonlFlows(text: string): FlowCount {
  const count: FlowCount = { total: 0, tcp: 0, udp: 0 };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    count.total++;
    const record: unknown = JSON.parse(line);
    const l4 = typeof record === 'object' && record !== null && 'l4' in record ? record.l4 : undefined;
    if (l4 === 'tcp') count.tcp!++;
    else if (l4 === 'udp') count.udp!++;
  }
  return count;
}

function benchCumma(capture: string, scratch: string, options: Options, useGnuTime: boolean, environment: MeasuringEnvironment): ToolResult {
  const result: ToolResult = { name: 'cumma', display: 'node dist/cumma.js flows FILE --format jsonl > /dev/null' };
  if (!existsSync(CLI)) {
    result.note = `not built: ${relative(process.cwd(), CLI)} missing (npm run build)`;
    return result;
  }
  const args = [CLI, 'flows', capture, '--format', 'jsonl'];
  try {
    result.measurement = measureBest(process.execPath, args, '/dev/null', useGnuTime, options.runs, environment.env);
    if (environment.removed.length > 0) result.asShellRunsIt = measureBest(process.execPath, args, '/dev/null', useGnuTime, options.runs);
    // One more, untimed run to count what it found (the timed runs write to /dev/null).
    const jsonl = join(scratch, 'cumma.jsonl');
    measure(process.execPath, args, jsonl, false, environment.env);
    result.flows = countJsonlFlows(readFileSync(jsonl, 'utf8'));
  } catch (error) {
    if (!(error instanceof CommandFailed)) throw error;
    result.note = `failed: ${error.detail}`;
  }
  return result;
}

const fmt = {
  int: (n: number): string => n.toLocaleString('en-US'),
  rate: (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(0)),
  mb: (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`,
};

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

function describeFlows(f: FlowCount | undefined): string {
  if (!f) return '–';
  return f.tcp !== undefined && f.udp !== undefined ? `${fmt.int(f.total)} (${fmt.int(f.tcp)} TCP + ${fmt.int(f.udp)} UDP)` : fmt.int(f.total);
}

function main(): number {
  let options: Options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }

  const out = (line = ''): boolean => process.stdout.write(`${line}\n`);
  out(`Cumma benchmark: synthetic capture of ${fmt.int(options.packets)} packets, ${fmt.int(options.flows)} flows (seed ${options.seed})`);
  let cached: CachedCapture;
  try {
    cached = cachedSyntheticCapture(CACHE_DIR, options);
  } catch (error) {
    // The generator rejects impossible parameters (e.g. too few packets for the flows).
    if (!(error instanceof RangeError)) throw error;
    process.stderr.write(`bench: ${error.message}\n`);
    return 2;
  }
  const s: SyntheticCaptureSummary = cached.summary;
  out(`  file      ${relative(process.cwd(), cached.path)}`);
  out(
    `  ${cached.generatedSeconds === undefined ? 'cached    reused (delete the file to regenerate)' : `generated in ${cached.generatedSeconds.toFixed(2)} s`}`,
  );
  out(
    `  contents  ${fmt.mb(s.fileBytes)}, mean frame ${(s.frameBytes / s.packets).toFixed(0)} B, ` +
      `${fmt.int(s.tcpFlows)} TCP + ${fmt.int(s.udpFlows)} UDP flows (${fmt.int(s.ipv6Flows)} IPv6), ` +
      `${fmt.int(Math.round(s.meanOpenFlows))} open on average (max ${fmt.int(s.maxOpenFlows)}), ` +
      `${((s.lastUs - s.firstUs) / 1e6).toFixed(0)} s of traffic`,
  );
  out();

  const useGnuTime = gnuTimeAvailable();
  const environment = measuringEnvironment();
  const scratch = scratchFolder('cumma-bench-');
  let results: ToolResult[];
  try {
    warmPageCache(cached.path);
    results = [
      benchCumma(cached.path, scratch, options, useGnuTime, environment),
      ...PEERS.map((peer) => benchPeer(peer, cached.path, scratch, options, useGnuTime, environment)),
    ];
  } finally {
    removeScratchFolder(scratch);
  }

  const ndpi = results.find((r) => r.name === 'ndpiReader')?.measurement;
  const rows = [['tool', 'command', 'wall s', 'packets/s', 'peak RSS MB', 'ratio to ndpiReader']];
  const row = (name: string, display: string, m: Measurement): string[] => [
    name,
    display,
    m.wallSeconds.toFixed(3),
    fmt.rate(s.packets / m.wallSeconds),
    m.peakRssMB === undefined ? 'n/a' : m.peakRssMB.toFixed(1),
    ndpi ? (m.wallSeconds / ndpi.wallSeconds).toFixed(3) : 'n/a',
  ];
  for (const r of results) {
    if (!r.measurement) {
      rows.push([r.name, r.display, r.note ?? '', '', '', '']);
      continue;
    }
    rows.push(row(r.name, r.display, r.measurement));
    if (r.asShellRunsIt !== undefined) rows.push(row('', `the same with ${environment.removed.join(', ')} as this shell sets it`, r.asShellRunsIt));
  }
  out(table(rows));
  out(
    `(best of ${options.runs} wall times, page cache warm; peak RSS is the highest of the runs` +
      `${useGnuTime ? ', from /usr/bin/time -f %M' : ': n/a, GNU time not installed'})`,
  );
  if (environment.removed.length > 0) out(describeLeftOut(environment, options.runs));
  out();

  out(`Flows counted (planned: ${describeFlows({ total: s.flows, tcp: s.tcpFlows, udp: s.udpFlows })}):`);
  const countRows: string[][] = [];
  let cummaCountOk = false;
  for (const r of results) {
    if (!r.measurement) {
      countRows.push([`  ${r.name}`, r.note ?? '', '']);
      continue;
    }
    const f = r.flows;
    const agrees =
      f !== undefined && f.total === s.flows && (f.tcp === undefined || f.tcp === s.tcpFlows) && (f.udp === undefined || f.udp === s.udpFlows);
    if (r.name === 'cumma') cummaCountOk = agrees;
    countRows.push([`  ${r.name}`, f ? describeFlows(f) : 'no count in its output', agrees ? 'OK' : 'DIFFERS']);
  }
  out(table(countRows));
  out();

  const cumma = results.find((r) => r.name === 'cumma')?.measurement;
  const verdicts: string[][] = [];
  const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'n/a' : ok ? 'PASS' : 'FAIL');
  const wallOk = cumma && ndpi ? cumma.wallSeconds <= TARGET_WALL_RATIO * ndpi.wallSeconds : undefined;
  verdicts.push([
    `  cumma wall <= ${TARGET_WALL_RATIO} x ndpiReader`,
    cumma && ndpi
      ? `${cumma.wallSeconds.toFixed(3)} s vs ${(TARGET_WALL_RATIO * ndpi.wallSeconds).toFixed(3)} s`
      : !cumma
        ? 'cumma did not run'
        : 'ndpiReader not measured',
    verdict(wallOk),
  ]);
  const rssOk = cumma?.peakRssMB !== undefined ? cumma.peakRssMB <= TARGET_PEAK_RSS_MB : undefined;
  verdicts.push([
    `  cumma peak RSS <= ${TARGET_PEAK_RSS_MB} MB`,
    cumma?.peakRssMB !== undefined ? `${cumma.peakRssMB.toFixed(1)} MB` : !cumma ? 'cumma did not run' : 'GNU time not installed',
    verdict(rssOk),
  ]);
  out('Targets:');
  out(table(verdicts));

  out();
  const classifyOk = benchClassify(cached.path, options, useGnuTime, environment, ndpi, out);
  const othersOk = runOtherBenchmarks(out);

  const failed = !cumma || !cummaCountOk || wallOk === false || rssOk === false || classifyOk === false || !othersOk;
  return failed ? 1 : 0;
}

const TARGET_CLASSIFY_RATIO = 0.5;

/** `cumma classify` on the same file: the whole chain to labelled dialogs, against ndpiReader. */
function benchClassify(
  capture: string,
  options: Options,
  useGnuTime: boolean,
  environment: MeasuringEnvironment,
  ndpi: Measurement | undefined,
  out: (line?: string) => boolean,
): boolean | undefined {
  const args = [CLI, 'classify', capture, '--format', 'jsonl'];
  let m: Measurement;
  let single: Measurement;
  try {
    m = measureBest(process.execPath, args, '/dev/null', useGnuTime, options.runs, environment.env);
    // The same on one thread: what the second thread buys (ndpiReader runs on one).
    single = measureBest(process.execPath, args, '/dev/null', useGnuTime, options.runs, { ...environment.env, CUMMA_LABEL_THREAD: '0' });
  } catch (error) {
    if (!(error instanceof CommandFailed)) throw error;
    out(`cumma classify: failed: ${error.detail}`);
    return false;
  }
  const ok = ndpi ? m.wallSeconds <= TARGET_CLASSIFY_RATIO * ndpi.wallSeconds : undefined;
  const rss = (x: Measurement): string => (x.peakRssMB === undefined ? 'n/a' : `${x.peakRssMB.toFixed(1)} MB`);
  out('Classification (node dist/cumma.js classify FILE --format jsonl > /dev/null):');
  out(
    `  wall ${m.wallSeconds.toFixed(3)} s (${fmt.rate(options.packets / m.wallSeconds)} packets/s), peak RSS ${rss(m)}, model on a second thread` +
      `; ndpiReader ${ndpi ? `${ndpi.wallSeconds.toFixed(3)} s` : 'not measured'}`,
  );
  out(`  one thread (CUMMA_LABEL_THREAD=0): wall ${single.wallSeconds.toFixed(3)} s, peak RSS ${rss(single)}`);
  out(`  target wall <= ${TARGET_CLASSIFY_RATIO} x ndpiReader: ${ndpi ? `${m.wallSeconds.toFixed(3)} s vs ${(TARGET_CLASSIFY_RATIO * ndpi.wallSeconds).toFixed(3)} s` : ''} ${ok === undefined ? 'n/a' : ok ? 'PASS' : 'FAIL'}`);
  out();
  return ok;
}

/** The benchmarks of the other parts, each its own script; a missing one is reported, not fatal. */
function runOtherBenchmarks(out: (line?: string) => boolean): boolean {
  let ok = true;
  for (const name of ['bench-latency', 'bench-lua', 'bench-model']) {
    const script = join(REPO_ROOT, 'dist', `${name}.js`);
    if (!existsSync(script)) {
      out(`${name}: not built`);
      continue;
    }
    const run = spawnSync(process.execPath, [script], { stdio: 'inherit' });
    // Stopped by Ctrl-C (it cleaned up after itself): so is this run, not just that benchmark.
    checkInterrupted(run);
    if (run.status !== 0) ok = false;
    out();
  }
  return ok;
}

exitWhenStdoutCloses();
process.exitCode = exitWhenInterrupted(main);
