// `npm start`: the main job on a fresh checkout. Runs the live agent (`cumma watch`) on a
// folder seeded from samples/: two finished captures copied in, and two replayed into the
// folder packet by packet as dumpcap would write them while capturing, so labels arrive live
// in the table. Ctrl-C stops the replay and the agent, and exits cleanly.
//
//   node dist/demo.js [--speed X] [--exit-when-done] [--port N] [--dir D]
//
// --speed: capture seconds per second of replay (default 5); --exit-when-done: stop once the
// replays have finished and every dialog is final (for scripted runs); --port: the agent's port
// (default 7345); --dir: the demo folder (default .cache/demo), emptied first: a folder holding
// files of its own is refused (scripts/lib/demo-folder.ts).

import { ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { replayCapture } from './lib/capture-replay';
import { DemoFolderError, prepareDemoFolder } from './lib/demo-folder';

const REPO_ROOT = resolve(__dirname, '..');
const CLI = join(REPO_ROOT, 'dist', 'cumma.js');
const SAMPLES = join(REPO_ROOT, 'samples');
const DEMO_DIR = argument('--dir') !== undefined ? resolve(argument('--dir')!) : join(REPO_ROOT, '.cache', 'demo');
const CAPTURES = join(DEMO_DIR, 'captures');
const COPIED = ['signal-media.pcapng', 'signal-streaming.pcapng'];
const REPLAYED = ['telegram-calls.pcapng', 'whatsapp-chat.pcapng'];

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!(value > 0)) throw new Error(`${name} must be a positive number`);
  return value;
}

function startAgent(): ChildProcess {
  // The agent prints its table on stdout and its URL and token on stderr: both to the terminal.
  return spawn(process.execPath, [CLI, 'watch', CAPTURES, '--format', 'table', '--state-dir', join(DEMO_DIR, 'state'), '--port', argument('--port') ?? '7345'], { stdio: ['ignore', 'inherit', 'pipe'] });
}

async function main(): Promise<number> {
  if (!existsSync(CLI)) {
    process.stderr.write(`demo: ${CLI} does not exist: run \`npm run build\` first\n`);
    return 1;
  }
  const speed = option('--speed', 5);
  const exitWhenDone = process.argv.includes('--exit-when-done');
  // A fresh folder each time, so every run shows the same thing from the start.
  try {
    prepareDemoFolder(DEMO_DIR, 'captures', argument('--dir'));
  } catch (error) {
    if (!(error instanceof DemoFolderError)) throw error;
    process.stderr.write(`demo: error: ${error.message}\n`);
    return 1;
  }
  for (const name of COPIED) copyFileSync(join(SAMPLES, name), join(CAPTURES, name));

  const agent = startAgent();
  let stopping = false;
  const exited = new Promise<number>((resolveExit) => agent.once('exit', (code) => resolveExit(code ?? 1)));
  const ready = new Promise<boolean>((resolveReady) => {
    let stderr = '';
    agent.stderr!.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      if (stderr.length < 10_000) {
        stderr += chunk.toString();
        if (/web panel:/.test(stderr)) resolveReady(true);
      }
    });
    void exited.then(() => resolveReady(false));
  });
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    agent.kill('SIGINT');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  if (!(await ready)) return exited;
  const shown = relative(process.cwd(), CAPTURES) || '.';
  process.stderr.write(
    [
      '',
      `demo: the agent watches ${shown}/ — ${COPIED.join(' and ')} are there already; ${REPLAYED.join(' and ')} are being`,
      `      written into it packet by packet at ${speed}× real time, as dumpcap writes a live capture.`,
      '      Wireshark: `node dist/cumma.js install-wireshark-plugin`, then open a capture from that folder (its',
      '      .cumma.tsv sidecar sits next to it) and filter with  cumma.usage == "voice_call"',
      '      VS Code: install the extension (npm run package:vscode) and run "Cumma: Connect to agent";',
      '      or open the web panel URL above in a browser. Ctrl-C stops.',
      '',
    ].join('\n'),
  );
  await Promise.all(REPLAYED.map((name) => replayCapture(join(SAMPLES, name), join(CAPTURES, name), { speed, stopped: () => stopping })));
  if (exitWhenDone && !stopping) {
    // Open dialogs close on the wall clock after the dialog gap once the files stop growing.
    await new Promise((resolveWait) => setTimeout(resolveWait, 8000));
    stop();
  }
  const code = await exited;
  // Ctrl-C is how an agent is meant to stop: that is a clean exit.
  return code === 130 ? 0 : code;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
