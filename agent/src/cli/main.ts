/**
 * The `cumma` command line: dispatches to one module per command.
 */
import { join } from 'node:path';
import type { CommandModule } from './entries/command-module';
import { isClosedPipe, stdoutFailure } from './system-error';

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

Run 'cumma COMMAND --help' or 'cumma help COMMAND' for a command's options.`;

const COMMAND_NAMES = ['flows', 'classify', 'train', 'evaluate', 'simulate', 'record', 'watch', 'install-wireshark-plugin'] as const;
type CommandName = (typeof COMMAND_NAMES)[number];

/** What each command takes as arguments besides options: the '--' hint names it; none, no hint. */
const ARGUMENT_KIND: Readonly<Record<CommandName, string | undefined>> = {
  flows: 'file',
  classify: 'file',
  train: 'file',
  evaluate: 'file',
  watch: 'folder',
  simulate: undefined,
  record: undefined,
  'install-wireshark-plugin': undefined,
};

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

/**
 * A usage error in the command's words. Node's parseArgs texts are rewritten: they talk about
 * "positional arguments", quote unevenly, and call `--max-flows -5` "ambiguous" without saying
 * that a value starting with '-' has to be attached with '='.
 */
function usageErrorText(error: Error, command: CommandName): string {
  const code = 'code' in error ? String(error.code) : '';
  const option = /Option '(-[^' ]+)/.exec(error.message)?.[1] ?? /option '(-[^']+)'/i.exec(error.message)?.[1];
  if (option === undefined) return error.message;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    if (option === '-V' || option === '--version') return `unknown option '${option}' (the version is 'cumma --version')`;
    const argument = ARGUMENT_KIND[command];
    // A command that takes no files would refuse the hint's `cumma COMMAND -- --bogus` in turn.
    if (argument === undefined) return `unknown option '${option}'`;
    return `unknown option '${option}' (a ${argument} whose name starts with '-' goes after '--': cumma ${command} -- ${option})`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (/ambiguous/.test(error.message)) return `${option} needs a value, and the word after it starts with '-': write ${option}=VALUE (e.g. ${option}=-1) if that is the value`;
    if (/argument missing/.test(error.message)) return `${option} needs a value`;
  }
  return error.message;
}

/** The options before `--`: after it, even `--help` is an argument (a file of that name). */
function optionsPart(args: readonly string[]): readonly string[] {
  const end = args.indexOf('--');
  return end === -1 ? args : args.slice(0, end);
}

/** Set once a write on standard output failed (not a closed pipe): the exit status is then 1. */
let outputFailed = false;

/**
 * Write errors on the standard streams come as 'error' events, which would otherwise end the
 * process with a stack trace. A closed pipe (`cumma evaluate … | head`) is quiet; any other
 * failure of stdout (a full disk) is reported once, in the commands' words, and the exit
 * status becomes 1. stderr has nobody left to tell.
 */
function watchStandardStreams(commandName: () => string | undefined): void {
  process.stdout.on('error', (error) => {
    // A command that listens itself (watch: it stops the agent cleanly) reports it itself.
    if (outputFailed || isClosedPipe(error) || process.stdout.listenerCount('error') > 1) return;
    outputFailed = true;
    const name = commandName();
    process.stderr.write(`cumma${name === undefined ? '' : ` ${name}`}: error: ${stdoutFailure(error)}\n`);
    process.exitCode = 1;
  });
  process.stderr.on('error', (error) => {
    if (!isClosedPipe(error)) process.exitCode = 1;
  });
}

async function main(argv: readonly string[]): Promise<number> {
  const io = { stdout: process.stdout, stderr: process.stderr };
  const [first, ...rest] = argv;
  // `cumma help COMMAND` is `cumma COMMAND --help`.
  const asked = first === 'help' && rest.length > 0 ? rest[0] : first;
  watchStandardStreams(() => (asked !== undefined && isCommandName(asked) ? asked : undefined));
  if (first === undefined) {
    // A mistake, not a request: the usage goes with the error, on stderr.
    process.stderr.write(`cumma: a COMMAND is needed\n\n${USAGE}\n`);
    return 2;
  }
  if (first === '--help' || first === '-h' || (first === 'help' && (rest.length === 0 || rest[0] === 'help'))) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (first === '--version' || first === '-V') {
    process.stdout.write(`${CUMMA_VERSION}\n`);
    return 0;
  }
  const name = asked!;
  if (!isCommandName(name)) {
    process.stderr.write(`cumma: unknown command '${name}'\n\n${USAGE}\n`);
    return 2;
  }
  const command = loadCommand(name);
  const args = first === 'help' ? [] : rest;
  if (first === 'help' || optionsPart(args).includes('--help') || optionsPart(args).includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    // Errors come from another bundle (the command's), so they are told apart by name, not class.
    if (isUsageError(error)) {
      process.stderr.write(`cumma ${name}: ${usageErrorText(error, name)}\n\n${command.usage}\n`);
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
  process.exitCode = outputFailed ? 1 : code;
  // Once stdout is gone (its reader closed the pipe) nothing is left to lose by ending now, and
  // a read of endless input (tail -f … | cumma flows - | head) may still be pending, which
  // would keep the process alive for ever.
  if (process.stdout.destroyed) process.exit();
});
