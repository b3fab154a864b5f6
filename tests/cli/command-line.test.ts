// The top level of the command line: help, version, and where usage text goes.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cumma.js');

function cumma(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} does not exist: run 'npm run build' first`);
});

it('bare cumma is a mistake: the usage goes to stderr, exit 2', () => {
  const result = cumma();
  expect(result.status).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).toContain('usage: cumma COMMAND [options]');
});

it('cumma help COMMAND prints the command help', () => {
  const result = cumma('help', 'classify');
  expect(result.status).toBe(0);
  expect(result.stdout).toMatch(/^usage: cumma classify FILE/);
  expect(cumma('help', 'nonsense').status).toBe(2);
  expect(cumma('help', 'help')).toMatchObject({ status: 0, stdout: expect.stringContaining('usage: cumma COMMAND [options]') });
});

it('-V prints the version, as --version does', () => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  expect(cumma('-V')).toEqual({ status: 0, stdout: `${version}\n`, stderr: '' });
  expect(cumma('-h').stdout).toContain('usage: cumma COMMAND [options]');
});

it('--help after -- is an argument, not a request for help', () => {
  const result = cumma('flows', '--', '--help');
  expect(result.status).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^cumma flows: error: --help: .*\[CAPTURE_IO\]/);
});

it("says what to do about option mistakes, in the command's words rather than parseArgs'", () => {
  const sample = join(ROOT, 'samples', 'telegram-calls.pcapng');
  const negative = cumma('flows', sample, '--max-flows', '-5');
  expect(negative.status).toBe(2);
  expect(negative.stderr.split('\n')[0]).toBe("cumma flows: --max-flows needs a value, and the word after it starts with '-': write --max-flows=VALUE (e.g. --max-flows=-1) if that is the value");
  // Written as the message says, the value reaches the command's own check.
  expect(cumma('flows', sample, '--max-flows=-5').stderr.split('\n')[0]).toMatch(/^cumma flows: --max-flows expects /);
  expect(cumma('flows', sample, '--bogus').stderr.split('\n')[0]).toBe("cumma flows: unknown option '--bogus' (a file whose name starts with '-' goes after '--': cumma flows -- --bogus)");
  expect(cumma('watch', '-V').stderr.split('\n')[0]).toBe("cumma watch: unknown option '-V' (the version is 'cumma --version')");
  expect(cumma('watch', '--bogus').stderr.split('\n')[0]).toBe("cumma watch: unknown option '--bogus' (a folder whose name starts with '-' goes after '--': cumma watch -- --bogus)");
  // Commands that take no files get no hint about files, which they would refuse in turn.
  for (const command of ['install-wireshark-plugin', 'simulate', 'record']) {
    const result = cumma(command, '--bogus');
    expect(result.status).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(`cumma ${command}: unknown option '--bogus'`);
  }
  expect(cumma('flows', sample, '--format').stderr.split('\n')[0]).toBe('cumma flows: --format needs a value');
});
