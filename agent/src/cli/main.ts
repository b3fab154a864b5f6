/**
 * The `cumma` command line: dispatches to one module per command.
 */
import { CaptureError } from '../capture/errors';
import { RECORD_USAGE, runRecord } from '../record/record-command';
import { APP_NAMES, AppName } from '../simulate/app-profiles';
import { SIMULATE_USAGE, runSimulate } from '../simulate/simulate-command';
import { buildTrafficScript } from '../simulate/usage-script';
import { CommandIo, FLOWS_USAGE, runFlows } from './flows-command';
import { UsageError } from './usage-error';

/** Replaced by the package version at build time (scripts/build.mjs). */
declare const CUMMA_VERSION: string;

const USAGE = `usage: cumma COMMAND [options]

Commands:
  flows FILE     bidirectional TCP/UDP flows of a pcap/pcapng capture
  simulate       write a labelled capture of simulated messaging traffic
  record         capture real encrypted loopback traffic of a usage with dumpcap

Run 'cumma COMMAND --help' for a command's options.`;

interface Command {
  readonly usage: string;
  readonly run: (args: readonly string[], io: CommandIo) => Promise<number>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  flows: { usage: FLOWS_USAGE, run: runFlows },
  simulate: { usage: SIMULATE_USAGE, run: runSimulate },
  record: {
    usage: RECORD_USAGE,
    run: (args, io) =>
      runRecord(args, io, {
        apps: APP_NAMES,
        buildScript: (request) =>
          buildTrafficScript({ plan: { kind: 'usage', usage: request.usage }, app: request.app as AppName, seed: request.seed, durationS: request.durationS, background: false }),
      }),
  },
};

async function main(argv: readonly string[]): Promise<number> {
  const io = { stdout: process.stdout, stderr: process.stderr };
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    process.stdout.write(`${CUMMA_VERSION}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`cumma: unknown command '${name}'\n\n${USAGE}\n`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`cumma ${name}: ${error.message}\n\n${command.usage}\n`);
      return 2;
    }
    if (error instanceof CaptureError) {
      process.stderr.write(`cumma: error: ${error.message}\n`);
      return 1;
    }
    // Anything else is still reported as a message, not a stack trace (CUMMA_DEBUG=1 shows it).
    if (process.env.CUMMA_DEBUG === '1') throw error;
    process.stderr.write(`cumma ${name}: error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
