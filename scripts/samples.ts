// `npm run samples [-- --out DIR]`: regenerates the bundled captures in samples/ (or DIR) with
// the built CLI, exactly as samples/README.md lists the commands.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SAMPLES } from './sample-list';

const REPO_ROOT = resolve(__dirname, '..');
const CLI = join(REPO_ROOT, 'dist', 'cumma.js');

function main(argv: readonly string[]): number {
  const outIndex = argv.indexOf('--out');
  const out = outIndex >= 0 && argv[outIndex + 1] ? resolve(argv[outIndex + 1]!) : join(REPO_ROOT, 'samples');
  mkdirSync(out, { recursive: true });
  for (const sample of SAMPLES) {
    const result = spawnSync(process.execPath, [CLI, 'simulate', ...sample.args, '-o', join(out, sample.file)], { stdio: 'inherit' });
    if (result.status !== 0) {
      process.stderr.write(`samples: generating ${sample.file} failed (exit ${result.status})\n`);
      return 1;
    }
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
