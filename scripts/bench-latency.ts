// `npm run bench` (part): label latency of the live agent. A real `cumma watch` process tails a
// folder; simulated traffic of three apps is written into a capture there, block by block, at
// 20× real time; a WebSocket client records when each final dialog arrives. A dialog's latency
// runs from the write of the first packet that shows it complete (capture time past its end
// plus the dialog gap) to its arrival at the client. Target: p95 ≤ 200 ms over ≥ 200 dialogs.
//
// Usage: node dist/bench-latency.js [--speed X] [--duration S]

import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { LiveDialog } from '../agent/src/live/label-feed';
import { ServerMessage } from '../agent/src/serve/protocol';
import { CaptureBlock, mergedPacketBlocks, replayCapture } from './lib/capture-replay';
import { endsWithThisProcess, exitWhenStdoutCloses, removeScratchFolder, scratchFolder } from './lib/interruptible';

const REPO_ROOT = resolve(__dirname, '..');
const CLI = join(REPO_ROOT, 'dist', 'cumma.js');
const TARGET_P95_MS = 200;
const MIN_DIALOGS = 200;

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Index of the first block with time > t (blocks sorted by time). */
function firstAfter(blocks: readonly CaptureBlock[], t: number): number {
  let low = 0;
  let high = blocks.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (blocks[middle]!.timeUs > t) high = middle;
    else low = middle + 1;
  }
  return low;
}

async function main(): Promise<number> {
  const speed = option('--speed', 20);
  const duration = option('--duration', 600);
  const scratch = scratchFolder('cumma-latency-');
  const folder = join(scratch, 'captures');
  mkdirSync(folder);
  const sources = (['whatsapp', 'telegram', 'signal'] as const).map((app, index) => {
    const path = join(scratch, `${app}.pcapng`);
    execFileSync(process.execPath, [CLI, 'simulate', '--scenario', 'mix', '--app', app, '--duration', String(duration), '--seed', String(31 + index), '--background', '-o', path]);
    return path;
  });
  const blocks = mergedPacketBlocks(sources);

  const agent = endsWithThisProcess(
    spawn(process.execPath, [CLI, 'watch', folder, '--port', '0', '--format', 'none'], {
      env: { ...process.env, CUMMA_CONFIG_DIR: join(scratch, 'config') },
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  try {
    const { url, token } = await new Promise<{ url: string; token: string }>((resolveReady, reject) => {
      let stderr = '';
      agent.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /labels:\s+(ws:\/\/[^/\s]+\/)\?token=([0-9a-f]+)/.exec(stderr);
        if (match) resolveReady({ url: match[1]!, token: match[2]! });
      });
      agent.once('exit', (code) => reject(new Error(`agent exited (${code}): ${stderr}`)));
    });
    const socket = new WebSocket(`${url}?token=${token}`);
    await new Promise((resolveOpen, reject) => socket.once('open', resolveOpen).once('error', reject));
    let dialogGapUs = 5_000_000;
    const arrivals = new Map<string, { dialog: LiveDialog; atMs: number }>();
    socket.on('message', (data) => {
      const atMs = performance.now();
      const message = JSON.parse(String(data)) as ServerMessage;
      if (message.type === 'hello') dialogGapUs = message.model.gaps.dialogGapUs;
      if (message.type === 'dialog' && message.dialog.status === 'final' && !arrivals.has(message.dialog.id)) arrivals.set(message.dialog.id, { dialog: message.dialog, atMs });
    });
    socket.send(JSON.stringify({ v: 1, type: 'subscribe', captures: '*' }));

    const writtenAtMs = new Float64Array(blocks.length);
    process.stdout.write(`Live label latency: ${blocks.length} packets of 3 simulated apps (${duration} s each), written at ${speed}× real time into a watched folder\n`);
    await replayCapture(blocks, join(folder, 'live.pcapng'), { speed, onBlock: (index) => (writtenAtMs[index] = performance.now()) });
    await new Promise((resolveWait) => setTimeout(resolveWait, 8000));
    socket.close();

    const latencies: number[] = [];
    let closedByClock = 0;
    for (const { dialog, atMs } of arrivals.values()) {
      const closing = firstAfter(blocks, dialog.endUs + dialogGapUs);
      if (closing >= blocks.length) {
        closedByClock++;
        continue;
      }
      latencies.push(atMs - writtenAtMs[closing]!);
    }
    latencies.sort((a, b) => a - b);
    const p50 = percentile(latencies, 50);
    const p95 = percentile(latencies, 95);
    process.stdout.write(
      `  dialogs closed by a later packet: ${latencies.length} (and ${closedByClock} by the wall clock after the file stopped growing)\n` +
        `  latency write → WebSocket client: p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${latencies.at(-1)?.toFixed(1)} ms\n`,
    );
    const ok = latencies.length >= MIN_DIALOGS && p95 <= TARGET_P95_MS;
    process.stdout.write(`  target p95 ≤ ${TARGET_P95_MS} ms over ≥ ${MIN_DIALOGS} dialogs: ${ok ? 'PASS' : 'FAIL'}\n`);
    return ok ? 0 : 1;
  } finally {
    agent.kill('SIGINT');
    await new Promise((resolveExit) => (agent.exitCode !== null ? resolveExit(null) : agent.once('exit', resolveExit)));
    removeScratchFolder(scratch);
  }
}

exitWhenStdoutCloses();
main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`bench-latency: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
