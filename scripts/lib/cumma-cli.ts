// Runs the built CLI the way a user would (`node dist/cumma.js flows FILE --format jsonl`), so the
// comparison covers argument parsing and output formatting too, not just the library.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { aggregateCummaJsonl, type CummaAggregate } from './flow-tuples';

export class CummaCliError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`cumma flows ${file}: ${message}`);
    this.name = 'CummaCliError';
  }
}

/** Throws a message saying how to build when dist/cumma.js is absent. */
export function assertCliBuilt(cliPath: string): void {
  if (!existsSync(cliPath)) {
    throw new Error(`${cliPath} does not exist: run \`npm run build\` first (needs agent/src/cli/main.ts)`);
  }
}

export function runCummaFlowsJsonl(cliPath: string, file: string): Promise<string> {
  const args = [cliPath, 'flows', file, '--format', 'jsonl'];
  return new Promise((resolve, reject) => {
    // 1 GiB: the jsonl of a large capture is far bigger than execFile's 1 MiB default.
    execFile(process.execPath, args, { maxBuffer: 1 << 30, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new CummaCliError(file, `${err.message.split('\n')[0]} ${stderr.trim()}`.trim()));
      else resolve(stdout);
    });
  });
}

export async function cummaAggregate(cliPath: string, file: string): Promise<CummaAggregate> {
  return aggregateCummaJsonl(await runCummaFlowsJsonl(cliPath, file));
}
