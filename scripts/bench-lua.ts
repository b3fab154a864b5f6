// `node dist/bench-lua.js`: what the Cumma Wireshark plugin (lua-dissector/cumma.lua) costs tshark.
//
// Usage: node dist/bench-lua.js [--packets N] [--flows N] [--seed N] [--runs N]
//   --packets N  packets in the capture (default 100000)
//   --flows N    flows in the capture (default 2000)
//   --seed N     generator seed (default 1)
//   --runs N     timed runs per command; the best wall time counts (default 3)
//
// The capture comes from the project's synthetic generator (cached under .cache/bench-lua/) and
// its sidecar from `cumma classify --sidecar`, so every packet has a label. Each tshark command
// runs without and with `-X lua_script:lua-dissector/cumma.lua`, alternately, in the same run:
//   summary  `tshark -r FILE`: no protocol tree is built, the plugin only checks that
//   filtered  `tshark -r FILE -Y frame`: a tree is built but not shown (Wireshark's first pass
//             with colouring rules); the plugin looks every packet up and adds its fields
//   fields   `tshark -r FILE -T fields -e frame.number -e ip.src -e tcp.srcport` (+ `-e cumma.usage`
//            with the plugin): the tree is built and visible
// plus, for scale, the summary command with an empty Lua post-dissector: what any Lua
// post-dissector costs before doing anything.
// Exit code 0 when the plugin labelled every packet and met the target (≤ 20 % extra wall time) in
// the summary mode; 1 otherwise; 2 for bad arguments. The other modes' figures are printed with
// their verdicts. Without tshark it says so and exits 0 (1 with CUMMA_REQUIRE_TOOLS=1).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { BenchOptions, parseBenchOptions } from './lib/bench-options';
import { cachedSyntheticCapture } from './lib/capture-cache';
import { CommandFailed, gnuTimeAvailable, Measurement, measure, which } from './lib/measure';

// dist/bench-lua.js → the repository root is one level up.
const REPO_ROOT = resolve(__dirname, '..');
const CLI = join(REPO_ROOT, 'dist', 'cumma.js');
const PLUGIN = join(REPO_ROOT, 'lua-dissector', 'cumma.lua');
const MODEL = join(REPO_ROOT, 'models', 'default.json');
const CACHE_DIR = join(REPO_ROOT, '.cache', 'bench-lua');

const TARGET_EXTRA = 0.2;

type Options = BenchOptions;

interface Mode {
  name: string;
  what: string;
  args: (capture: string) => string[];
  /** Extra arguments only for the run with the plugin. */
  pluginArgs: string[];
  /** The target applies to this mode (exit code). */
  primary: boolean;
}

const MODES: readonly Mode[] = [
  { name: 'summary', what: 'tshark -r FILE', args: (f) => ['-r', f], pluginArgs: [], primary: true },
  { name: 'filtered', what: 'tshark -r FILE -Y frame', args: (f) => ['-r', f, '-Y', 'frame'], pluginArgs: [], primary: false },
  {
    name: 'fields',
    what: 'tshark -r FILE -T fields -e frame.number -e ip.src -e tcp.srcport [-e cumma.usage]',
    args: (f) => ['-r', f, '-T', 'fields', '-e', 'frame.number', '-e', 'ip.src', '-e', 'tcp.srcport'],
    pluginArgs: ['-e', 'cumma.usage'],
    primary: false,
  },
];

function parseOptions(argv: string[]): Options {
  return parseBenchOptions(argv, { packets: 100_000, flows: 2_000, seed: 1, runs: 3 }, 'usage: node dist/bench-lua.js [--packets N] [--flows N] [--seed N] [--runs N]');
}

/** The sidecar of the capture, made by `cumma classify --sidecar` unless newer than capture and model. */
function ensureSidecar(capture: string): { path: string; seconds?: number } {
  const path = `${capture}.cumma.tsv`;
  const newest = Math.max(statSync(capture).mtimeMs, existsSync(MODEL) ? statSync(MODEL).mtimeMs : 0);
  if (existsSync(path) && statSync(path).mtimeMs >= newest) return { path };
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [CLI, 'classify', capture, '--sidecar', '--format', 'jsonl'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`cumma classify --sidecar failed: ${result.stderr.trim()}`);
  return { path, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/** Packets in the fields output and how many of them carry a cumma.usage (last column). */
function countLabelled(fieldsOutput: string): { packets: number; labelled: number } {
  let packets = 0;
  let labelled = 0;
  for (const line of fieldsOutput.split('\n')) {
    if (line === '') continue;
    packets++;
    const columns = line.split('\t');
    if ((columns[columns.length - 1] ?? '') !== '') labelled++;
  }
  return { packets, labelled };
}

/** Lowest wall time; the highest peak RSS (conservative). */
function bestOf(runs: readonly Measurement[]): Measurement {
  const wallSeconds = Math.min(...runs.map((m) => m.wallSeconds));
  const rss = runs.map((m) => m.peakRssMB).filter((v): v is number => v !== undefined);
  return { wallSeconds, peakRssMB: rss.length > 0 ? Math.max(...rss) : undefined };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

function main(): number {
  let options: Options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench-lua: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  const out = (line = ''): boolean => process.stdout.write(`${line}\n`);
  out(`Cumma Wireshark plugin benchmark: ${options.packets.toLocaleString('en-US')} packets, ${options.flows.toLocaleString('en-US')} flows (seed ${options.seed})`);
  const tshark = which('tshark');
  if (tshark === undefined) {
    out('  tshark is not installed: nothing to measure (sudo apt-get install tshark)');
    return process.env.CUMMA_REQUIRE_TOOLS === '1' ? 1 : 0;
  }
  if (!existsSync(CLI)) {
    process.stderr.write(`bench-lua: ${relative(process.cwd(), CLI)} missing: run npm run build\n`);
    return 1;
  }
  const cached = cachedSyntheticCapture(CACHE_DIR, options);
  out(`  capture   ${relative(process.cwd(), cached.path)} (${(cached.summary.fileBytes / 1e6).toFixed(1)} MB${cached.generatedSeconds === undefined ? ', cached' : `, generated in ${cached.generatedSeconds.toFixed(2)} s`})`);
  const sidecar = ensureSidecar(cached.path);
  const dialogs = readFileSync(sidecar.path, 'utf8').split('\n').filter((l) => l !== '').length - 1;
  out(`  sidecar   ${relative(process.cwd(), sidecar.path)} (${dialogs.toLocaleString('en-US')} dialogs${sidecar.seconds === undefined ? ', cached' : `, classified in ${sidecar.seconds.toFixed(2)} s`})`);
  out(`  plugin    ${relative(process.cwd(), PLUGIN)}`);
  out();

  const useGnuTime = gnuTimeAvailable();
  const scratch = mkdtempSync(join(tmpdir(), 'cumma-bench-lua-'));
  const rows = [['mode', 'command', 'without s', 'with s', 'extra', 'RSS without', 'RSS with', `≤ ${TARGET_EXTRA * 100} %`]];
  let primaryOk = false;
  let labelsOk = false;
  try {
    // One untimed run that checks the plugin labels every packet (and warms the page cache).
    const fieldsMode = MODES.find((m) => m.name === 'fields')!;
    const checkPath = join(scratch, 'check.txt');
    measure(tshark, ['-X', `lua_script:${PLUGIN}`, ...fieldsMode.args(cached.path), ...fieldsMode.pluginArgs], checkPath, false);
    const count = countLabelled(readFileSync(checkPath, 'utf8'));
    labelsOk = count.packets === options.packets && count.labelled === count.packets;
    out(`Labelled by the plugin: ${count.labelled.toLocaleString('en-US')} of ${count.packets.toLocaleString('en-US')} packets ${labelsOk ? 'OK' : 'MISSING LABELS'}`);
    out();

    for (const mode of MODES) {
      const base = mode.args(cached.path);
      const withPlugin = ['-X', `lua_script:${PLUGIN}`, ...base, ...mode.pluginArgs];
      const runsWithout: Measurement[] = [];
      const runsWith: Measurement[] = [];
      // Alternate the two commands so that the machine's drift hits both alike.
      for (let run = 0; run < options.runs; run++) {
        runsWithout.push(measure(tshark, base, '/dev/null', useGnuTime));
        runsWith.push(measure(tshark, withPlugin, '/dev/null', useGnuTime));
      }
      const without = bestOf(runsWithout);
      const withP = bestOf(runsWith);
      const extra = withP.wallSeconds / without.wallSeconds - 1;
      const ok = extra <= TARGET_EXTRA;
      if (mode.primary) primaryOk = ok;
      rows.push([
        mode.name,
        mode.what,
        without.wallSeconds.toFixed(3),
        withP.wallSeconds.toFixed(3),
        `${extra >= 0 ? '+' : ''}${(extra * 100).toFixed(1)} %`,
        without.peakRssMB === undefined ? 'n/a' : `${without.peakRssMB.toFixed(0)} MB`,
        withP.peakRssMB === undefined ? 'n/a' : `${withP.peakRssMB.toFixed(0)} MB`,
        `${ok ? 'PASS' : 'FAIL'}${mode.primary ? ' (target)' : ''}`,
      ]);
    }
    // The floor: a Lua post-dissector that does nothing, in the mode where the plugin does least.
    const empty = join(scratch, 'empty-postdissector.lua');
    writeFileSync(empty, 'local p = Proto("emptybench", "Empty post-dissector")\nfunction p.dissector() end\nregister_postdissector(p)\n');
    const summary = MODES.find((m) => m.primary)!;
    const floorWithout: Measurement[] = [];
    const floorWith: Measurement[] = [];
    for (let run = 0; run < options.runs; run++) {
      floorWithout.push(measure(tshark, summary.args(cached.path), '/dev/null', useGnuTime));
      floorWith.push(measure(tshark, ['-X', `lua_script:${empty}`, ...summary.args(cached.path)], '/dev/null', useGnuTime));
    }
    const a = bestOf(floorWithout);
    const b = bestOf(floorWith);
    const floorExtra = b.wallSeconds / a.wallSeconds - 1;
    rows.push([
      '(scale)',
      'tshark -r FILE with an empty Lua post-dissector',
      a.wallSeconds.toFixed(3),
      b.wallSeconds.toFixed(3),
      `${floorExtra >= 0 ? '+' : ''}${(floorExtra * 100).toFixed(1)} %`,
      a.peakRssMB === undefined ? 'n/a' : `${a.peakRssMB.toFixed(0)} MB`,
      b.peakRssMB === undefined ? 'n/a' : `${b.peakRssMB.toFixed(0)} MB`,
      '',
    ]);
  } catch (error) {
    if (!(error instanceof CommandFailed)) throw error;
    process.stderr.write(`bench-lua: ${error.message}\n`);
    return 1;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  out(table(rows));
  out(`(best of ${options.runs} wall times each, the two commands alternating; peak RSS ${useGnuTime ? 'from /usr/bin/time -f %M, highest of the runs' : 'n/a: GNU time not installed'})`);
  out(`The target (≤ ${TARGET_EXTRA * 100} % extra) is checked on the summary mode; building and filling protocol trees costs more (see lua-dissector/README.md).`);
  return labelsOk && primaryOk ? 0 : 1;
}

process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
process.exitCode = main();
