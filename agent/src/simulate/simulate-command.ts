/**
 * `cumma simulate`: writes a labelled capture of one usage (--usage) or of a whole app session
 * (--scenario), with network conditions drawn from the seed.
 */
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { captureOutputProblem } from '../capture/capture-output';
import { UsageError, parseChoice, parsePositiveNumber } from '../cli/usage-error';
import { USAGE_CLASSES, UsageClass, isUsageClass } from '../labels';
import { APP_NAMES } from './app-profiles';
import { drawNetworkConditions, renderCapture } from './render';
import { ScenarioStep, ScriptPlan, buildTrafficScript, plannedStepS } from './usage-script';

export const DEFAULT_SIMULATE_DURATION_S = 60;
const MAX_DURATION_S = 3600;
/** How parseScenario counts a step without SECONDS (usage-script.ts, plannedStepS). */
const SCENARIO_DEFAULTS_TEXT =
  `calls ${plannedStepS({ usage: 'voice_call' })} s, live location ${plannedStepS({ usage: 'location' })} s, ` +
  `streaming ${plannedStepS({ usage: 'streaming' })} s, any other usage ${plannedStepS({ usage: 'text' })} s`;
/** `--scenario` given without a list: a random mix of usages. */
const RANDOM_MIX = 'mix';

export const SIMULATE_USAGE = `usage: cumma simulate (--usage USAGE | --scenario [${RANDOM_MIX}|USAGE[:SECONDS],…]) -o OUT.pcapng
                      [--app APP] [--duration SECONDS] [--seed N] [--background] [--tcp-loss]

Writes a simulated capture of a messaging app with the truth on every packet (comment
cumma:usage=U session=N dialog=N) and OUT.pcapng.truth.jsonl. Same options, same file.
  --usage       one usage, repeated (or held, for calls, streams, live location) for the duration:
                ${USAGE_CLASSES.join(', ')}
  --scenario    a whole app session: a random mix until the duration, or the usages listed,
                in order (USAGE:SECONDS sets how long a call, stream or live location lasts);
                a list plans at most ${MAX_DURATION_S} s in all: each step counts its SECONDS or,
                without them, the longest it lasts by default (calls ${plannedStepS({ usage: 'voice_call' })} s,
                live location ${plannedStepS({ usage: 'location' })} s, streaming ${plannedStepS({ usage: 'streaming' })} s, any other usage ${plannedStepS({ usage: 'text' })} s)
  --app         ${APP_NAMES.join(', ')} (default ${APP_NAMES[0]})
  --duration    seconds of activity to plan (default ${DEFAULT_SIMULATE_DURATION_S}, at most ${MAX_DURATION_S}): no new
                usage starts after it, but one that has started ends as it would (a text
                conversation, a call), so the capture can run longer than asked; a mix plays at
                least three usages however short the duration
  --seed        any integer 0…4294967295 (default 1): picks the app profile, network and traffic
  --background  add DNS, NTP, push and OS background traffic (usage other, session 0)
  --tcp-loss    let the drawn loss rate hit TCP too (datagrams are always lossy); Wireshark then
                flags the gaps and repairs as it does in real captures`;

export interface CommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

function parseUsage(text: string, option: string): UsageClass {
  if (!isUsageClass(text)) throw new UsageError(`${option}: unknown usage '${text}'; valid usages: ${USAGE_CLASSES.join(', ')}`);
  return text;
}

export function parseScenario(text: string): ScenarioStep[] | undefined {
  if (text === RANDOM_MIX) return undefined;
  const steps = text.split(',').map((item): ScenarioStep => {
    const [usageText = '', seconds, extra] = item.trim().split(':');
    if (extra !== undefined) throw new UsageError(`--scenario: '${item}' is not USAGE or USAGE:SECONDS`);
    const usage = parseUsage(usageText, '--scenario');
    if (seconds === undefined) return { usage };
    const durationS = Number(seconds);
    if (!Number.isFinite(durationS) || durationS <= 0 || durationS > MAX_DURATION_S) {
      throw new UsageError(`--scenario: '${item}': seconds must be a number in (0, ${MAX_DURATION_S}]`);
    }
    return { usage, durationS };
  });
  // A capture grows with the time it plans (an hour of video call is 1.1 GB and 1.2 M packets):
  // the list as a whole is held to --duration's limit, or 40 hour-long calls would run out of
  // memory, and 20 would write 24 GB, after minutes of work.
  const plannedS = steps.reduce((sum, step) => sum + plannedStepS(step), 0);
  if (plannedS > MAX_DURATION_S) {
    throw new UsageError(
      `--scenario plans ${Number(plannedS.toFixed(3))} s in all, more than the ${MAX_DURATION_S} s a capture may plan (as --duration); ` +
        `a step counts its SECONDS, or without them the longest it lasts by default (${SCENARIO_DEFAULTS_TEXT}): split it into several captures`,
    );
  }
  return steps;
}

/**
 * Checked before rendering, which can take minutes for long captures: a missing folder would
 * otherwise be reported at the end, and under the temporary file's name. (What may be replaced
 * is checked before, as a usage mistake: capture-output.ts.)
 */
function checkOutputFolder(output: string): void {
  const folder = dirname(output);
  let isFolder: boolean;
  try {
    isFolder = statSync(folder).isDirectory();
  } catch {
    throw new Error(`cannot write ${output}: its folder ${folder} does not exist (ENOENT)`);
  }
  if (!isFolder) throw new Error(`cannot write ${output}: ${folder} is not a folder`);
  let isTargetFolder = false;
  try {
    isTargetFolder = statSync(output).isDirectory();
  } catch {
    // Nothing there yet: the usual case.
  }
  if (isTargetFolder) throw new Error(`cannot write ${output}: it is a folder (EISDIR); give a file name`);
}

function parseSeed(text: string | undefined): number {
  if (text === undefined) return 1;
  if (!/^\d+$/.test(text) || Number(text) > 0xffffffff) throw new UsageError(`--seed expects an integer 0…4294967295, got '${text}'`);
  return Number(text);
}

/** `--scenario` may stand alone; parseArgs needs a value, so give it the random mix. */
function withScenarioValue(args: readonly string[]): string[] {
  return args.flatMap((arg, index) => (arg === '--scenario' && (args[index + 1] === undefined || args[index + 1]!.startsWith('-')) ? [`--scenario=${RANDOM_MIX}`] : [arg]));
}

export async function runSimulate(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: withScenarioValue(args),
    allowPositionals: true,
    options: {
      usage: { type: 'string' },
      scenario: { type: 'string' },
      app: { type: 'string' },
      duration: { type: 'string' },
      seed: { type: 'string' },
      background: { type: 'boolean', default: false },
      'tcp-loss': { type: 'boolean', default: false },
      output: { type: 'string', short: 'o' },
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  if ((values.usage === undefined) === (values.scenario === undefined)) throw new UsageError('give exactly one of --usage and --scenario');
  if (values.output === undefined) throw new UsageError('-o OUT.pcapng is required');
  // The truth lives in packet comments, which classic pcap cannot hold: a .pcap name would lie.
  if (/\.(pcap|cap)$/i.test(values.output)) {
    throw new UsageError(`-o ${values.output}: the simulator writes pcapng (its truth is in packet comments, which pcap cannot hold); name it .pcapng, or convert a copy with editcap -F pcap`);
  }
  // The truth sidecar goes beside the capture, so both need a real file name.
  if (values.output === '-') throw new UsageError('-o - (standard output) is not supported: the truth sidecar is written beside the capture; give a file name');
  const outputProblem = captureOutputProblem(values.output, 'simulate');
  if (outputProblem !== undefined) throw new UsageError(outputProblem);
  const app = parseChoice('app', values.app, APP_NAMES, APP_NAMES[0]);
  const durationS = parsePositiveNumber('duration', values.duration, DEFAULT_SIMULATE_DURATION_S);
  if (durationS > MAX_DURATION_S) throw new UsageError(`--duration must be at most ${MAX_DURATION_S} seconds, got ${durationS}`);
  const seed = parseSeed(values.seed);
  const plan: ScriptPlan =
    values.usage !== undefined ? { kind: 'usage', usage: parseUsage(values.usage, '--usage') } : { kind: 'scenario', ...withSteps(parseScenario(values.scenario!)) };

  const script = buildTrafficScript({ plan, app, seed, durationS, background: values.background });
  const conditions = drawNetworkConditions(seed);
  checkOutputFolder(values.output);
  const summary = renderCapture(script, {
    conditions,
    seed,
    outputPath: values.output,
    tcpLoss: values['tcp-loss'],
    mayReplace: (path) => {
      const problem = captureOutputProblem(path, 'simulate');
      return problem === undefined ? undefined : `${problem} (it changed while simulating)`;
    },
  });
  const seconds = (summary.lastUs - summary.firstUs) / 1e6;
  io.stdout.write(
    `${values.output}: ${summary.packets} packets in ${summary.connections} connections over ${seconds.toFixed(1)} s, ` +
      `${summary.truthRecords} truth records (${values.output}.truth.jsonl)\n` +
      `  network: RTT ${(conditions.rttBaseUs / 1000).toFixed(0)} ms, jitter ${(conditions.jitterUs / 1000).toFixed(1)} ms, ` +
      `loss ${(conditions.lossRate * 100).toFixed(2)} %, down ${(conditions.downlinkBitsPerSecond / 1e6).toFixed(1)} Mbit/s, ` +
      `up ${(conditions.uplinkBitsPerSecond / 1e6).toFixed(1)} Mbit/s, MSS ${conditions.mss}\n`,
  );
  return 0;
}

function withSteps(steps: ScenarioStep[] | undefined): { steps?: ScenarioStep[] } {
  return steps === undefined ? {} : { steps };
}
