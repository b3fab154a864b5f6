/**
 * `cumma watch DIR...`: the live agent. Reads the captures in DIR as they grow (dumpcap
 * writing into it, ring buffers included), labels their dialogs, keeps a Wireshark sidecar
 * next to each, and serves the labels over WebSocket and HTTP on 127.0.0.1:7345.
 */
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { IpAnonymizer } from '../anonymize/anonymizer';
import { storedAnonymizeKey } from '../anonymize/key-file';
import { FeedEvent, LabelFeed } from '../live/label-feed';
import { LiveAgent } from '../live/live-agent';
import { UsageModel } from '../pipeline/usage-model';
import { DEFAULT_HOST, DEFAULT_PORT, loadOrCreateToken, resolveConfigDir, startAgentServer } from '../serve';
import { AddressRedactor, createAddressRedactor, passThrough } from '../serve/address-redactor';
import { ANONYMIZE_OPTIONS, anonymizeKeyHelp, parseAnonymizeOption } from './anonymize-option';
import { DEFAULT_MODEL } from './classify-command';
import { CommandIo } from './flows-command';
import { LIVE_TABLE_HEADER, liveTableRow } from './live-table';
import { prepareStateFolder } from './state-folder-option';
import { UsageError, parseChoice } from './usage-error';
import { OutputGone, WatchOutput, printableName } from './watch-output';

declare const CUMMA_VERSION: string;

export const WATCH_USAGE = `usage: cumma watch DIR... [--model MODEL.json] [--host HOST] [--port PORT]
                   [--anonymize KEY | --anonymize-key-file FILE | --no-anonymize]
                   [--no-sidecar] [--format table|jsonl|none] [--state-dir DIR]

Watches folders for pcap/pcapng captures (existing ones, new ones, files dumpcap is still
writing, ring buffers), labels every dialog as it completes (provisional labels for long
dialogs every 2 s), keeps X.pcapng.cumma.tsv next to each capture for Wireshark, and serves
the labels over WebSocket and HTTP (docs/protocol.md).
  --model         model file (default: the shipped models/default.json)
  --host          address to serve on (default ${DEFAULT_HOST}); any other than loopback
                  anonymises addresses in everything served, unless --no-anonymize
  --port          port to serve on (default ${DEFAULT_PORT}; 0 picks a free one)
  --anonymize     anonymises every address served (even on loopback) and printed (the
                  jsonl/table rows, capture names and messages on stderr, but not the agent's
                  own address nor its clients'; dialog ids become keyed digests) with its
                  keyed, prefix-preserving (Crypto-PAn) image; the sidecars keep the real
                  addresses, for Wireshark to match on this machine;
${anonymizeKeyHelp('                  ')}
  --no-sidecar    do not write sidecar files
  --format        what is printed per dialog: table on a terminal, jsonl otherwise, or none
  --state-dir     where per-capture state (for resuming after a crash) is kept
                  (default: the config folder's state/); made if missing, and must be
                  a folder the agent can write in

The access token is created on first start in the config folder ($CUMMA_CONFIG_DIR, else
$XDG_CONFIG_HOME/cumma, else ~/.config/cumma) and printed at start.`;

const FORMATS = ['table', 'jsonl', 'none'] as const;

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

export async function runWatch(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      host: { type: 'string', default: DEFAULT_HOST },
      port: { type: 'string', default: String(DEFAULT_PORT) },
      ...ANONYMIZE_OPTIONS,
      'no-anonymize': { type: 'boolean', default: false },
      'no-sidecar': { type: 'boolean', default: false },
      format: { type: 'string' },
      'state-dir': { type: 'string' },
    },
  });
  if (positionals.length === 0) throw new UsageError('watch needs at least one folder');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be an integer 0–65535, not '${values.port}'`);
  const format = parseChoice('format', values.format, FORMATS, io.stdout.isTTY ? 'table' : 'jsonl');
  if (values.anonymize !== undefined && values['no-anonymize']) throw new UsageError('give --anonymize KEY or --no-anonymize, not both');
  if (values['anonymize-key-file'] !== undefined && values['no-anonymize']) throw new UsageError('give --anonymize-key-file FILE or --no-anonymize, not both');
  const host = values.host;
  const configDir = resolveConfigDir();
  const model = UsageModel.load(values.model ?? DEFAULT_MODEL);
  if (values['state-dir'] === '') throw new UsageError('--state-dir needs a folder');
  const stateDirectory = resolve(values['state-dir'] ?? join(configDir, 'state'));
  prepareStateFolder(stateDirectory, values['state-dir']);

  // Armed before anything is printed: dialogs of the captures already in the folder are printed
  // while the agent is still starting, so `| head -1` can have gone before start-up is done.
  let reportGone!: (gone: OutputGone) => void;
  const outputGone = new Promise<OutputGone>((resolve) => (reportGone = resolve));
  const output = new WatchOutput(io, reportGone);

  const givenKey = parseAnonymizeOption(values)?.bytes;
  let anonymizeKey = givenKey;
  if (anonymizeKey === undefined && !isLoopback(host) && !values['no-anonymize']) anonymizeKey = storedAnonymizeKey(configDir);
  const token = loadOrCreateToken(configDir);
  const agent = new LiveAgent({ model, stateDirectory, sidecars: !values['no-sidecar'] });
  // A key given by the user asks for anonymised output, as with `cumma flows` and `classify`: the
  // terminal shows what clients see, capture names and folder paths included. (The stored key of
  // an agent served beyond loopback only protects what leaves the machine: its terminal keeps the
  // real addresses.) The agent's own address and its clients' are no capture's: printed as they are.
  const terminal: AddressRedactor =
    givenKey !== undefined
      ? createAddressRedactor(
          new IpAnonymizer(givenKey),
          givenKey,
          (dialog, reason) => output.err(`cumma watch: warning: a dialog of ${printableName(terminal.captureName(dialog.capture))} is not printed: cannot anonymise it (${reason})`),
          () => agent.captures().map((capture) => capture.name),
        )
      : passThrough;
  const print = printer(format, output, terminal);
  agent.subscribe(print);
  // Beyond loopback, a token holder must not be able to make the agent read any folder.
  const feed: LabelFeed = isLoopback(host)
    ? agent
    : {
        model: agent.model,
        captures: () => agent.captures(),
        folders: () => agent.folders(),
        dialogs: (capture) => agent.dialogs(capture),
        stats: () => agent.stats(),
        subscribe: (listener) => agent.subscribe(listener),
        watchFolder: () => Promise.reject(new Error('watching folders on request is off when the agent serves beyond loopback')),
      };
  let server;
  try {
    server = await startAgentServer({
      feed,
      token: token.token,
      host,
      port,
      anonymizeKey,
      staticDir: join(__dirname, '..', 'panel'),
      agentVersion: `cumma ${typeof CUMMA_VERSION === 'string' ? CUMMA_VERSION : 'dev'}`,
      // Connections come and go all the time: only what needs attention goes next to the table.
      log: (level, message) => {
        if (level !== 'info' || process.env.CUMMA_DEBUG === '1') output.err(`cumma watch: ${level}: ${message}`);
      },
      logCaptureText: (text) => terminal.text(text),
    });
  } catch (error) {
    await agent.close();
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? `port ${port} on ${host} is in use (another agent running? try --port)` : error instanceof Error ? error.message : String(error);
    output.err(`cumma watch: cannot serve on ${host}:${port}: ${why}`);
    return 1;
  }
  // Said once serving there worked: a --host that cannot be served on (a typo, an address of
  // another machine) gets its error alone, not a warning about serving it first.
  if (!isLoopback(host)) {
    output.err(
      `cumma watch: warning: serving on ${host}, reachable from other machines; ${anonymizeKey ? 'addresses are anonymised in everything served' : 'addresses are NOT anonymised (--no-anonymize)'}`,
    );
  }
  // The same folder given twice (`w2 w2/`, `./w2`, a symbolic link to it) is watched once, under
  // its first spelling: said, so that nobody looks for a second watch.
  const watched = new Map<string, string>();
  const repeats: string[] = [];
  try {
    for (const folder of positionals) {
      const path = await agent.watchFolder(folder);
      const first = watched.get(path);
      if (first === undefined) watched.set(path, folder);
      else repeats.push(`${folder} is ${first} again: watched once`);
    }
  } catch (error) {
    await server.close();
    await agent.close();
    output.err(`cumma watch: ${terminal.text(error instanceof Error ? error.message : String(error))}`);
    return 1;
  }
  // Folders as every later message names them (addresses anonymised with a key given); the URLs
  // are the agent's own address.
  output.err(
    [
      `cumma watch: model ${agent.model.name}; watching ${terminal.text([...watched.values()].join(', '))}`,
      ...repeats.map((repeat) => `cumma watch: note: ${terminal.text(repeat)}`),
      `  labels:    ${server.url}?token=${token.token}   (HTTP: ${server.httpUrl}labels?capture=NAME&format=tsv)`,
      `  web panel: ${server.httpUrl}#token=${token.token}`,
      `  token:     ${token.path}${token.created ? ' (created now)' : ''}`,
    ].join('\n'),
  );
  print.header();

  let signalled!: () => void;
  const stopSignal = new Promise<undefined>((resolve) => (signalled = () => resolve(undefined)));
  process.once('SIGINT', signalled);
  process.once('SIGTERM', signalled);
  // Stopped by a signal (undefined) or by the output's reader going away.
  const gone = await Promise.race([stopSignal, outputGone]);
  // A second Ctrl-C while stopping ends the process at once, as Node does by default.
  process.off('SIGINT', signalled);
  process.off('SIGTERM', signalled);
  let code = 0;
  if (gone === undefined) output.err('cumma watch: stopping');
  else if (gone.error.code !== 'EPIPE') {
    // Not a reader that left (a terminal gone, a full disk): worth a word where one can still go.
    code = 1;
    if (gone.stream === 'stdout') io.stderr.write(`cumma watch: stopping: cannot write the output: ${gone.error.message}\n`);
  }
  // Whatever stopped it, the agent ends the same way: sidecars written, clients closed. (The
  // state journal needs no flushing: each entry is on disk before its dialog is sent.)
  await Promise.all([server.close(), agent.close()]);
  return code;
}

/**
 * Prints the agent's events; header() prints the table's header once. Captures already in the
 * folder are read as soon as watching starts, so a first row can come before the start-up
 * message is done: the first row prints the header itself rather than lose it under the rows.
 */
function printer(format: (typeof FORMATS)[number], output: WatchOutput, terminal: AddressRedactor): ((event: FeedEvent) => void) & { header(): void } {
  let headerPrinted = false;
  const header = (): void => {
    if (format !== 'table' || headerPrinted) return;
    headerPrinted = true;
    output.out(LIVE_TABLE_HEADER);
  };
  const print = (event: FeedEvent): void => {
    if (event.kind === 'folder') {
      // The start-up line names the folders of the command line, and the server logs a client's
      // `watch`: an `added` event is for clients whose folder lists it keeps current.
      if (event.event === 'added') return;
      const level = event.event === 'missing' ? 'warning: ' : event.event === 'error' ? 'error: ' : '';
      output.err(`cumma watch: ${level}${terminal.text(event.message)}`);
      return;
    }
    if (event.kind === 'capture') {
      // Progress updates (once a second while a file grows) are for clients, not the terminal.
      if (event.event === 'updated' && event.message === undefined) return;
      // Addresses only: the folders are the user's own, on the user's terminal.
      output.err(`cumma watch: ${printableName(terminal.captureName(event.capture.name))}: ${event.event}${event.message ? `: ${terminal.text(event.message)}` : ''}`);
      return;
    }
    // Printed by the run that published it, before a restart: the terminal says nothing twice.
    if (event.restored || format === 'none') return;
    const dialog = terminal.dialog(event.dialog);
    if (dialog === undefined) return; // cannot be anonymised: said on stderr, not printed
    if (format === 'table') {
      header();
      output.out(liveTableRow(dialog));
    } else output.out(JSON.stringify(dialog));
  };
  return Object.assign(print, { header });
}
