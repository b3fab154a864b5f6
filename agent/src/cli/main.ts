/**
 * The `cumma` command line: dispatches to one module per command.
 */
import { join } from 'node:path';
import type { CommandModule } from './entries/command-module';

/** Replaced by the package version at build time (scripts/build.mjs). */
declare const CUMMA_VERSION: string;

const USAGE = `usage: cumma COMMAND [options]

Commands:
  flows FILE     bidirectional TCP/UDP flows of a pcap/pcapng capture
  classify FILE  the service usage of every dialog of a capture
  train          train a usage model on labelled captures
  evaluate       precision, recall, F1 and confusion of a model on labelled captures
  simulate       write a labelled capture of simulated messaging traffic
  record         capture real encrypted loopback traffic of a usage with dumpcap
  watch DIR...   the live agent: label captures as they grow, serve labels on 127.0.0.1:7345
  install-wireshark-plugin
                 copy the Cumma Lua post-dissector into Wireshark's plugins folder

Run 'cumma COMMAND --help' for a command's options.`;

const COMMAND_NAMES = ['flows', 'classify', 'train', 'evaluate', 'simulate', 'record', 'watch', 'install-wireshark-plugin'] as const;
type CommandName = (typeof COMMAND_NAMES)[number];

function isCommandName(name: string): name is CommandName {
  return (COMMAND_NAMES as readonly string[]).includes(name);
}

/** Loads dist/commands/NAME.js, built from agent/src/cli/entries/NAME.ts. */
function loadCommand(name: CommandName): CommandModule {
  return (require(join(__dirname, 'commands', `${name}.js`)) as { command: CommandModule }).command;
}

function isUsageError(error: unknown): error is Error {
  if (!(error instanceof Error)) return false;
  return error.name === 'UsageError' || ('code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'));
}

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
  if (!isCommandName(name)) {
    process.stderr.write(`cumma: unknown command '${name}'\n\n${USAGE}\n`);
    return 2;
  }
  const command = loadCommand(name);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    // Errors come from another bundle (the command's), so they are told apart by name, not class.
    if (isUsageError(error)) {
      process.stderr.write(`cumma ${name}: ${error.message}\n\n${command.usage}\n`);
      return 2;
    }
    if (error instanceof Error && error.name === 'CaptureError') {
      process.stderr.write(`cumma ${name}: error: ${error.message}\n`);
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
