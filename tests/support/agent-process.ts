// A real `cumma watch` process for end-to-end tests, and a WebSocket client that records what
// the agent publishes. The agent picks a free port (--port 0) and prints its URL and token.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { appendFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { dialogId } from '../../agent/src/live/dialog-identity';
import { LiveDialog } from '../../agent/src/live/label-feed';
import { ServerMessage } from '../../agent/src/serve/protocol';
import { seededRandom } from './random-capture';

export const CLI = join(__dirname, '..', '..', 'dist', 'cumma.js');

export interface AgentProcess {
  readonly child: ChildProcess;
  /** ws://127.0.0.1:PORT/ */
  readonly url: string;
  readonly httpUrl: string;
  readonly token: string;
  stderr(): string;
  /**
   * Everything the agent printed on stdout since it started. A listener of the test's own, added
   * once the agent is ready, would miss the rows printed before its start-up message.
   */
  stdout(): string;
  /** Every dialog the agent published since it started (its --format jsonl output). */
  published(): LiveDialog[];
  /** SIGINT and wait for exit; resolves to the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
}

/** `env`: variables set for the agent besides CUMMA_CONFIG_DIR (CUMMA_DEBUG=1 prints its info log too). */
export async function startAgent(folder: string, configDir: string, extraArgs: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<AgentProcess> {
  const child = spawn(process.execPath, [CLI, 'watch', folder, '--port', '0', '--format', 'jsonl', ...extraArgs], {
    env: { ...process.env, ...env, CUMMA_CONFIG_DIR: configDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await new Promise<{ url: string; token: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not start in 20 s; stderr:\n${stderr}`)), 20_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /labels:\s+(ws:\/\/[^/\s]+\/)\?token=([0-9a-f]+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1]!, token: match[2]! });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited with ${code} before serving; stderr:\n${stderr}`));
    });
  });
  return {
    child,
    url: ready.url,
    httpUrl: ready.url.replace(/^ws/, 'http'),
    token: ready.token,
    stderr: () => stderr,
    stdout: () => stdout,
    published: () =>
      stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as LiveDialog),
    stop: async () => {
      child.kill('SIGINT');
      return exited;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Records every message of one WebSocket subscription to all captures. */
export class RecordingClient {
  readonly messages: ServerMessage[] = [];
  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => this.messages.push(JSON.parse(String(data)) as ServerMessage));
  }

  static async connect(agent: AgentProcess): Promise<RecordingClient> {
    const socket = new WebSocket(`${agent.url}?token=${agent.token}`);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const client = new RecordingClient(socket);
    socket.send(JSON.stringify({ v: 1, type: 'subscribe', captures: '*' }));
    return client;
  }

  /** `dialog` messages, in arrival order. */
  dialogEvents(): LiveDialog[] {
    return this.messages.flatMap((message) => (message.type === 'dialog' ? [message.dialog] : []));
  }

  /** Latest state of every dialog seen, from snapshots and events. */
  latest(): Map<string, LiveDialog> {
    const state = new Map<string, LiveDialog>();
    for (const message of this.messages) {
      if (message.type === 'snapshot') for (const dialog of message.dialogs) state.set(dialog.id, dialog);
      if (message.type === 'dialog') state.set(message.dialog.id, message.dialog);
    }
    return state;
  }

  close(): void {
    this.socket.close();
  }
}

/** `cumma classify --format jsonl --temporal forward` of a finished file: what the live agent publishes for it. */
export function classifyFile(path: string): Omit<LiveDialog, 'id'>[] {
  // The live agent filters forward (a label never waits for later dialogs); so does classify by
  // default, said here so that the comparison does not hang on the default.
  const output = execFileSync(process.execPath, [CLI, 'classify', path, '--format', 'jsonl', '--temporal', 'forward'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return output
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Omit<LiveDialog, 'id'>);
}

/** What `cumma classify` says of the file, as the agent publishes it under `name`: id → final dialog. */
export function expectedDialogs(path: string, name: string): Map<string, LiveDialog> {
  return new Map(classifyFile(path).map((record) => [dialogId(name, record), { ...record, capture: name, id: dialogId(name, record) }]));
}

/** Appends `bytes[from, to)` to `path` in random pieces of 1 B … 64 KiB, pausing now and then, as dumpcap does. */
export async function appendInPieces(path: string, bytes: Uint8Array, from: number, to: number, seed: number): Promise<void> {
  const random = seededRandom(seed);
  let at = from;
  while (at < to) {
    const size = Math.min(to - at, 1 + Math.floor(random() ** 3 * 65536));
    appendFileSync(path, bytes.subarray(at, at + size));
    at += size;
    if (random() < 0.1) await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The dialogs the agent serves for capture `name` (`/labels?format=jsonl`). */
export async function servedLabels(agent: AgentProcess, name: string): Promise<LiveDialog[]> {
  const text = await (await fetch(`${agent.httpUrl}labels?capture=${name}&format=jsonl`, { headers: { Authorization: `Bearer ${agent.token}` } })).text();
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as LiveDialog);
}

export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Waits until the agent has printed final every dialog `classify` finds in `capturePath`, under
 * the capture name `name` (from its `after`-th printed dialog on: what came after a restart).
 */
export async function waitForFinalDialogs(agent: AgentProcess, capturePath: string, name: string, after = 0): Promise<void> {
  const expected = expectedDialogs(capturePath, name);
  const finals = (): Set<string> => new Set(agent.published().slice(after).filter((dialog) => dialog.capture === name && dialog.status === 'final').map((dialog) => dialog.id));
  await waitFor(() => [...expected.keys()].every((id) => finals().has(id)), 30_000, `the dialogs of ${name}`);
}

/** The files the agent process holds open (Linux: its /proc fd links). */
export function openFilesOf(agent: AgentProcess): string[] {
  const dir = `/proc/${agent.child.pid}/fd`;
  return readdirSync(dir).flatMap((fd) => {
    try {
      return [readlinkSync(join(dir, fd))];
    } catch {
      return [];
    }
  });
}
