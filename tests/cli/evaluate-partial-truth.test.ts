// `cumma evaluate` on a capture only some of whose dialogs are labelled scores what `cumma
// classify` says of them: every dialog is classified, the unlabelled ones included (the temporal
// model runs along whole sessions), and only the labelled ones are scored. It used to drop the
// unlabelled dialogs first, so the forward filter and Viterbi saw the labelled ones as
// neighbours, and evaluate scored verdicts classify never gives (the reviewer's reproduction:
// a simulated capture converted to pcap, its truth sidecar without the `other` lines).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTools } from '../support/tools';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cumma.js');
const tools = requireTools('editcap');

function cumma(...args: string[]): string {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`cumma ${args.join(' ')}: exit ${result.status}: ${result.stderr}`);
  return result.stdout;
}

interface Endpoint {
  readonly ip: string;
  readonly port: number;
}
interface Span {
  readonly l4: string;
  readonly client: Endpoint;
  readonly server: Endpoint;
  readonly startUs: number;
  readonly endUs: number;
}
interface TruthLine extends Span {
  readonly usage: string;
}
interface DialogRecord extends Span {
  readonly usage: string;
}

const sameEndpoint = (a: Endpoint, b: Endpoint): boolean => a.ip === b.ip && a.port === b.port;
const sameFlow = (a: Span, b: Span): boolean =>
  a.l4 === b.l4 && ((sameEndpoint(a.client, b.client) && sameEndpoint(a.server, b.server)) || (sameEndpoint(a.client, b.server) && sameEndpoint(a.server, b.client)));
const overlaps = (a: Span, b: Span): boolean => Math.min(a.endUs, b.endUs) >= Math.max(a.startUs, b.startUs);

let dir: string;
let capture: string;
let truth: TruthLine[];

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} does not exist: run 'npm run build' first`);
  if (tools.skip) return;
  tools.assertAvailable();
  dir = mkdtempSync(join(tmpdir(), 'cumma-partial-truth-'));
  const simulated = join(dir, 't.pcapng');
  // A seed on which the old evaluate differed from classify with both decodings.
  cumma('simulate', '--scenario', 'mix', '--app', 'telegram', '--seed', '100003', '--duration', '300', '--background', '-o', simulated);
  // pcap carries no packet comments: the sidecar is the only truth, and it leaves the
  // background (`other`) dialogs unlabelled.
  capture = join(dir, 't.pcap');
  const converted = spawnSync('editcap', ['-F', 'pcap', simulated, capture], { encoding: 'utf8' });
  if (converted.status !== 0) throw new Error(`editcap: ${converted.stderr}`);
  const lines = readFileSync(`${simulated}.truth.jsonl`, 'utf8').trim().split('\n');
  const kept = lines.filter((line) => !line.includes('"usage":"other"'));
  writeFileSync(`${capture}.truth.jsonl`, `${kept.join('\n')}\n`);
  truth = kept.map((line) => JSON.parse(line) as TruthLine);
});
afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** classify's verdicts on the labelled dialogs, as "truth→verdict" counts. */
function classifyScored(temporal: string): Map<string, number> {
  const records = cumma('classify', capture, '--format', 'jsonl', '--temporal', temporal)
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as DialogRecord);
  const counts = new Map<string, number>();
  let unlabelled = 0;
  for (const record of records) {
    const usages = new Set(truth.filter((line) => sameFlow(record, line) && overlaps(record, line)).map((line) => line.usage));
    // Every dialog the sidecar reaches has one usage: whatever rule picks among lines, it is this one.
    expect(usages.size, `${JSON.stringify(record)}`).toBeLessThanOrEqual(1);
    const [usage] = usages;
    if (usage === undefined) {
      unlabelled++;
      continue;
    }
    const key = `${usage}→${record.usage}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  // Partly labelled indeed: the point of the test.
  expect(unlabelled).toBeGreaterThan(10);
  expect(counts.size).toBeGreaterThan(0);
  return counts;
}

interface Report {
  readonly classes: string[];
  readonly columns: string[];
  readonly confusion: number[][];
}

function evaluateScored(temporal: string): Map<string, number> {
  const report = JSON.parse(cumma('evaluate', capture, '--format', 'json', '--temporal', temporal)) as Report;
  const counts = new Map<string, number>();
  report.confusion.forEach((row, r) =>
    row.forEach((n, c) => {
      if (n > 0) counts.set(`${report.classes[r]}→${report.columns[c]}`, n);
    }),
  );
  return counts;
}

const sorted = (counts: Map<string, number>): [string, number][] => [...counts].sort(([a], [b]) => a.localeCompare(b));

describe.skipIf(tools.skip)('evaluate on a partly labelled capture', () => {
  it.each([['forward'], ['viterbi'], ['off']])('scores the verdicts classify gives, with --temporal %s', (temporal) => {
    expect(sorted(evaluateScored(temporal))).toEqual(sorted(classifyScored(temporal)));
  });
});
