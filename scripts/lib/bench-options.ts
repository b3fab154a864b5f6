// The options every capture benchmark takes: the synthetic capture's size and seed, and how
// many timed runs per tool.
import { parseArgs } from 'node:util';

export interface BenchOptions {
  packets: number;
  flows: number;
  seed: number;
  runs: number;
}

/** Parses --packets, --flows, --seed, --runs (and --help, which prints `usage` and exits). */
export function parseBenchOptions(argv: string[], defaults: BenchOptions, usage: string): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      packets: { type: 'string', default: String(defaults.packets) },
      flows: { type: 'string', default: String(defaults.flows) },
      seed: { type: 'string', default: String(defaults.seed) },
      runs: { type: 'string', default: String(defaults.runs) },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  const integer = (name: string, text: string, min: number): number => {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < min) throw new RangeError(`--${name} must be an integer >= ${min}, got '${text}'`);
    return n;
  };
  return {
    packets: integer('packets', values.packets, 1),
    flows: integer('flows', values.flows, 1),
    seed: integer('seed', values.seed, 0),
    runs: integer('runs', values.runs, 1),
  };
}
