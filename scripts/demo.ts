// `npm start`: shows the main job working on a fresh checkout, with no capture of your own.
// Writes a small synthetic messaging capture (fixed seed, so always the same file) to
// .cache/demo/demo.pcapng, then runs `cumma flows` on it as a user would, output as a table.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { writeSyntheticCaptureFile } from './lib/synthetic-capture';

// dist/demo.js → the repository root is one level up.
const REPO_ROOT = resolve(__dirname, '..');
const CLI = join(REPO_ROOT, 'dist', 'cumma.js');
const DEMO_DIR = join(REPO_ROOT, '.cache', 'demo');
const DEMO_CAPTURE = join(DEMO_DIR, 'demo.pcapng');
const DEMO = { packets: 3000, flows: 40, seed: 2016 };

function main(): number {
  if (!existsSync(CLI)) {
    process.stderr.write(`demo: ${CLI} does not exist: run \`npm run build\` first\n`);
    return 1;
  }
  mkdirSync(DEMO_DIR, { recursive: true });
  const s = writeSyntheticCaptureFile(DEMO_CAPTURE, DEMO);
  const shown = relative(process.cwd(), DEMO_CAPTURE);
  process.stdout.write(
    `Wrote ${shown}: a synthetic messaging capture (made-up addresses, filler payload) of ` +
      `${s.packets} packets in ${s.flows} flows: ${s.tcpFlows} TLS connections, ${s.callFlows} voice calls, ` +
      `${s.dnsFlows} DNS lookups (${s.ipv6Flows} over IPv6).\n\n` +
      `$ cumma flows ${shown} --format table\n`,
  );
  const run = spawnSync(process.execPath, [CLI, 'flows', DEMO_CAPTURE, '--format', 'table'], { stdio: 'inherit' });
  if (run.error) {
    process.stderr.write(`demo: could not run ${CLI}: ${run.error.message}\n`);
    return 1;
  }
  if (run.status === 0) {
    process.stdout.write(`\nOpen ${shown} in Wireshark to compare with Statistics > Conversations.\n`);
  }
  return run.status ?? 1;
}

// Piped into `head`, stdout closes early: stop quietly rather than die on EPIPE.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
process.exitCode = main();
