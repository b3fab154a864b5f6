/**
 * `cumma watch DIR...`: the live agent. Reads the captures in DIR as they grow (dumpcap
 * writing into it, ring buffers included), labels their dialogs, keeps a Wireshark sidecar
 * next to each, and serves the labels over WebSocket and HTTP on 127.0.0.1:7345.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseAnonymizeKey } from '../anonymize/key';
import { FeedEvent, LabelFeed } from '../live/label-feed';
import { LiveAgent } from '../live/live-agent';
import { UsageModel } from '../pipeline/usage-model';
import { DEFAULT_HOST, DEFAULT_PORT, loadOrCreateToken, resolveConfigDir, startAgentServer } from '../serve';
import { DEFAULT_MODEL } from './classify-command';
import { CommandIo } from './flows-command';
import { LIVE_TABLE_HEADER, liveTableRow } from './live-table';
import { UsageError, parseChoice } from './usage-error';

declare const CUMMA_VERSION: string;

export const WATCH_USAGE = `usage: cumma watch DIR... [--model MODEL.json] [--host HOST] [--port PORT] [--no-anonymize]
                   [--anonymize KEY] [--no-sidecar] [--format table|jsonl|none] [--state-dir DIR]

Watches folders for pcap/pcapng captures (existing ones, new ones, files dumpcap is still
writing, ring buffers), labels every dialog as it completes (provisional labels for long
dialogs every 2 s), keeps X.pcapng.cumma.tsv next to each capture for Wireshark, and serves
the labels over WebSocket and HTTP (docs/protocol.md).
  --model         model file (default: the shipped models/default.json)
  --host          address to serve on (default ${DEFAULT_HOST}); any other than loopback
                  anonymises addresses in everything served, unless --no-anonymize
  --port          port to serve on (default ${DEFAULT_PORT}; 0 picks a free one)
  --anonymize     Crypto-PAn key for served addresses (64 hex digits or a passphrase);
                  forces anonymisation even on loopback
  --no-sidecar    do not write sidecar files
  --format        what is printed per dialog: table on a terminal, jsonl otherwise, or none
  --state-dir     where per-capture state (for resuming after a crash) is kept
                  (default: the config folder's state/)

The access token is created on first start in the config folder ($CUMMA_CONFIG_DIR, else
$XDG_CONFIG_HOME/cumma, else ~/.config/cumma) and printed at start.`;

const FORMATS = ['table', 'jsonl', 'none'] as const;

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/** A key kept in the config folder, so anonymised addresses stay the same across restarts. */
function storedAnonymizeKey(configDir: string): Uint8Array {
  const path = join(configDir, 'anonymize.key');
  if (existsSync(path)) return parseAnonymizeKey(readFileSync(path, 'utf8').trim()).bytes;
  mkdirSync(configDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  writeFileSync(path, `${key.toString('hex')}\n`, { mode: 0o600 });
  return key;
}

export async function runWatch(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      host: { type: 'string', default: DEFAULT_HOST },
      port: { type: 'string', default: String(DEFAULT_PORT) },
      anonymize: { type: 'string' },
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
  const host = values.host;
  const configDir = resolveConfigDir();
  const model = UsageModel.load(values.model ?? DEFAULT_MODEL);

  let anonymizeKey: Uint8Array | undefined;
  if (values.anonymize !== undefined) anonymizeKey = parseAnonymizeKey(values.anonymize).bytes;
  else if (!isLoopback(host) && !values['no-anonymize']) anonymizeKey = storedAnonymizeKey(configDir);
  if (!isLoopback(host)) {
    io.stderr.write(
      `cumma watch: warning: serving on ${host}, reachable from other machines; ${anonymizeKey ? 'addresses are anonymised in everything served' : 'addresses are NOT anonymised (--no-anonymize)'}\n`,
    );
  }

  const token = loadOrCreateToken(configDir);
  const agent = new LiveAgent({ model, stateDirectory: values['state-dir'] ?? join(configDir, 'state'), sidecars: !values['no-sidecar'] });
  const print = printer(format, io);
  agent.subscribe(print);
  // Beyond loopback, a token holder must not be able to make the agent read any folder.
  const feed: LabelFeed = isLoopback(host)
    ? agent
    : {
        model: agent.model,
        captures: () => agent.captures(),
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
        if (level !== 'info' || process.env.CUMMA_DEBUG === '1') io.stderr.write(`cumma watch: ${level}: ${message}\n`);
      },
    });
  } catch (error) {
    await agent.close();
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? `port ${port} on ${host} is in use (another agent running? try --port)` : error instanceof Error ? error.message : String(error);
    io.stderr.write(`cumma watch: cannot serve on ${host}:${port}: ${why}\n`);
    return 1;
  }
  try {
    for (const folder of positionals) await agent.watchFolder(folder);
  } catch (error) {
    await server.close();
    await agent.close();
    io.stderr.write(`cumma watch: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  io.stderr.write(
    [
      `cumma watch: model ${agent.model.name}; watching ${positionals.join(', ')}`,
      `  labels:    ${server.url}?token=${token.token}   (HTTP: ${server.httpUrl}labels?capture=NAME&format=tsv)`,
      `  web panel: ${server.httpUrl}#token=${token.token}`,
      `  token:     ${token.path}${token.created ? ' (created now)' : ''}`,
      '',
    ].join('\n'),
  );
  print.header();

  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      io.stderr.write('cumma watch: stopping\n');
      void Promise.all([server.close(), agent.close()]).then(() => resolveExit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/**
 * Prints the agent's events; header() prints the table's header once. Captures already in the
 * folder are read as soon as watching starts, so a first row can come before the start-up
 * message is done: the first row prints the header itself rather than lose it under the rows.
 */
function printer(format: (typeof FORMATS)[number], io: CommandIo): ((event: FeedEvent) => void) & { header(): void } {
  let headerPrinted = false;
  const header = (): void => {
    if (format !== 'table' || headerPrinted) return;
    headerPrinted = true;
    io.stdout.write(`${LIVE_TABLE_HEADER}\n`);
  };
  const print = (event: FeedEvent): void => {
    if (event.kind === 'capture') {
      // Progress updates (once a second while a file grows) are for clients, not the terminal.
      if (event.event === 'updated' && event.message === undefined) return;
      io.stderr.write(`cumma watch: ${event.capture.name}: ${event.event}${event.message ? `: ${event.message}` : ''}\n`);
      return;
    }
    if (format === 'table') {
      header();
      io.stdout.write(`${liveTableRow(event.dialog)}\n`);
    } else if (format === 'jsonl') io.stdout.write(`${JSON.stringify(event.dialog)}\n`);
  };
  return Object.assign(print, { header });
}
