/**
 * The `cumma` command line: dispatches to one module per command.
 */
import { CaptureError } from '../capture/errors';
import { FLOWS_USAGE, runFlows } from './flows-command';
import { UsageError } from './usage-error';

const USAGE = `usage: cumma COMMAND [options]

Commands:
  flows FILE     bidirectional TCP/UDP flows of a pcap/pcapng capture

Run 'cumma COMMAND --help' for a command's options.`;

const COMMANDS: Readonly<Record<string, { usage: string; run: typeof runFlows }>> = {
  flows: { usage: FLOWS_USAGE, run: runFlows },
};

async function main(argv: readonly string[]): Promise<number> {
  const io = { stdout: process.stdout, stderr: process.stderr };
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    process.stdout.write(`${process.env.CUMMA_VERSION ?? '0.1.0'}\n`);
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
    throw error;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
