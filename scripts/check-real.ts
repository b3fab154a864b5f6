// `npm run check:real`: cumma's flow accounting against the tshark reference on the real
// captures in ../shared/real-captures/ndpi (read in place, never copied: see its README).
//
// Usage: node dist/check-real.js [--no-times] [--max-diffs N] [DIR_OR_FILE ...]
//   --no-times     compare packet/byte totals only, not first/last packet times
//   --max-diffs N  differences printed per capture (default 5)
// Exit code 0 only when every capture agrees on every compared 5-tuple.

import { closeSync, existsSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { assertCliBuilt, cummaAggregate } from './lib/cumma-cli';
import {
  compareAggregates,
  comparedCount,
  describeTotals,
  summariseFrames,
  tsharkReference,
  type Comparison,
  type CummaAggregate,
  type ReferenceAggregate,
} from './lib/tshark-flows';

// dist/check-real.js → the repository root is one level up.
const REPO_ROOT = resolve(__dirname, '..');
const DEFAULT_DIR = resolve(REPO_ROOT, '../shared/real-captures/ndpi');
// CUMMA_CLI checks another build of the CLI (e.g. to bisect a regression).
const CLI = process.env.CUMMA_CLI ?? join(REPO_ROOT, 'dist', 'cumma.js');
const NOT_CAPTURES = /\.(out|tsv|md)$/i;
// Two captures at a time: each runs two processes (tshark, node) and the machine has 2 cores.
const CONCURRENCY = 2;

interface Options {
  targets: string[];
  compareTimes: boolean;
  maxDiffs: number;
}

interface CaptureResult {
  file: string;
  comparison?: Comparison;
  reference?: ReferenceAggregate;
  cumma?: CummaAggregate;
  error?: string;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { targets: [], compareTimes: true, maxDiffs: 5 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--no-times') options.compareTimes = false;
    else if (arg === '--max-diffs') options.maxDiffs = Number(argv[++i]);
    else options.targets.push(resolve(arg));
  }
  if (options.targets.length === 0) options.targets.push(DEFAULT_DIR);
  return options;
}

/** pcap (either byte order, µs or ns) or pcapng, by magic number: extensions lie here. */
function isCaptureFile(file: string): boolean {
  const magic = Buffer.alloc(4);
  const fd = openSync(file, 'r');
  try {
    if (readSync(fd, magic, 0, 4, 0) < 4) return false;
  } finally {
    closeSync(fd);
  }
  const hex = magic.toString('hex');
  return ['a1b2c3d4', 'd4c3b2a1', 'a1b23c4d', '4d3cb2a1', '0a0d0d0a'].includes(hex);
}

function listCaptures(targets: string[]): string[] {
  const missing = targets.find((t) => !existsSync(t));
  if (missing !== undefined) {
    const shared = resolve(missing) === resolve(DEFAULT_DIR) ? ' (the real captures live beside the repository, in ../shared; give other captures or folders as arguments)' : '';
    throw new Error(`${missing} not found${shared}`);
  }
  const files = targets.flatMap((t) =>
    statSync(t).isDirectory()
      ? readdirSync(t)
          .filter((name) => !NOT_CAPTURES.test(name))
          .map((name) => join(t, name))
      : [t],
  );
  return files.filter((f) => statSync(f).isFile() && isCaptureFile(f)).sort();
}

async function checkCapture(file: string, options: Options): Promise<CaptureResult> {
  try {
    const [reference, cumma] = await Promise.all([tsharkReference(file), cummaAggregate(CLI, file)]);
    const comparison = compareAggregates(reference, cumma, { compareTimes: options.compareTimes });
    return { file, comparison, reference, cumma };
  } catch (err) {
    return { file, error: err instanceof Error ? err.message : String(err) };
  }
}

function agrees(r: CaptureResult): boolean {
  const c = r.comparison;
  if (!c || r.error || (r.cumma?.problems.length ?? 0) > 0) return false;
  return c.disagreeing.length + c.missing.length + c.extra.length === 0;
}

function report(r: CaptureResult, maxDiffs: number): string[] {
  const name = basename(r.file);
  if (r.error || !r.comparison || !r.reference || !r.cumma) return [`${name}: ERROR ${r.error ?? ''}`];
  const c = r.comparison;
  const differing = c.disagreeing.length + c.missing.length + c.extra.length;
  const s = r.reference.stats;
  const lines = [
    `${name}: ${comparedCount(c)} tuples compared, ${c.agreeing.length} agree, ${differing} differ` +
      ` (${c.disagreeing.length} counts, ${c.missing.length} missing in cumma, ${c.extra.length} only in cumma)` +
      `, ${c.skipped.length} skipped (tunnels)` +
      ` | tshark: ${s.frames} frames, ${s.flowPackets} in flows, fragments ${s.fragmentsAttributed}` +
      ` attributed/${s.fragmentsUnattributed} not, ${s.icmp} icmp, ${s.tunnelled} tunnelled;` +
      ` cumma: ${r.cumma.flowRecords} flow records`,
  ];
  const diffs = [
    ...c.disagreeing.map((d) => `differs ${d.key}: ${d.details.join('; ')}; tshark frames ${summariseFrames(d.reference.frames)}`),
    ...c.missing.map((t) => `missing in cumma ${describeTotals(t)}`),
    ...c.extra.map((t) => `only in cumma ${describeTotals(t)}`),
    ...r.cumma.problems.map((p) => `contract: ${p}`),
  ];
  lines.push(...diffs.slice(0, maxDiffs).map((d) => `    ${d}`));
  if (diffs.length > maxDiffs) lines.push(`    … ${diffs.length - maxDiffs} more`);
  return lines;
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  assertCliBuilt(CLI);
  const files = listCaptures(options.targets);
  if (files.length === 0) {
    console.error(`no captures found in ${options.targets.join(', ')}`);
    return 2;
  }
  const results = await mapLimited(files, CONCURRENCY, (f) => checkCapture(f, options));
  for (const r of results) console.log(report(r, options.maxDiffs).join('\n'));
  const goodCaptures = results.filter(agrees).length;
  const tuples = results.reduce((sum, r) => sum + (r.comparison ? comparedCount(r.comparison) : 0), 0);
  const goodTuples = results.reduce((sum, r) => sum + (r.comparison?.agreeing.length ?? 0), 0);
  console.log(`${goodCaptures}/${files.length} captures agree, ${goodTuples}/${tuples} 5-tuples agree`);
  return goodCaptures === files.length ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`check:real: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  },
);
