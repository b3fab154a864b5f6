// `--anonymize KEY` and `--anonymize-key-file FILE` of `cumma flows` and `classify`, in real
// runs of the CLI: the key file gives the same mapping as the key and keeps the key out of the
// command line, is refused when others can read it, and what the commands print on stderr (notes,
// --stats, errors naming the capture) is anonymised like their records.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IpAnonymizer } from '../../agent/src/anonymize/anonymizer';
import { parseAnonymizeKey } from '../../agent/src/anonymize/key';
import { bytes, pcapHeader, pcapRecord } from '../support/capture-bytes';
import { findOnPath } from '../support/tools';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cumma.js');
const SAMPLE = join(ROOT, 'samples', 'whatsapp-chat.pcapng');
const KEY_HEX = '5f0e3c91'.repeat(8);
const PASSPHRASE = 'correct horse battery staple';

function cumma(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let dir: string;
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} does not exist: run 'npm run build' first`);
  dir = mkdtempSync(join(tmpdir(), 'cumma-anonymize-options-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keyFile(name: string, text: string, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

describe('--anonymize-key-file FILE', () => {
  it('gives flows and classify the mapping --anonymize KEY gives, with the key in no command line', () => {
    const hexFile = keyFile('hex.key', `${KEY_HEX}\n`);
    const flowsByKey = cumma('flows', SAMPLE, '--format', 'jsonl', '--anonymize', KEY_HEX);
    const flowsByFile = cumma('flows', SAMPLE, '--format', 'jsonl', '--anonymize-key-file', hexFile);
    expect(flowsByFile.status, flowsByFile.stderr).toBe(0);
    expect(flowsByFile.stdout).toBe(flowsByKey.stdout);
    expect(flowsByFile.stdout).toContain(new IpAnonymizer(parseAnonymizeKey(KEY_HEX).bytes).anonymize('10.58.111.12'));
    expect(flowsByFile.stdout).not.toContain('10.58.111.12');

    // A passphrase, its line end (CRLF from some editors) not part of it.
    const passphraseFile = keyFile('passphrase.key', `${PASSPHRASE}\r\n`);
    const classifyByKey = cumma('classify', SAMPLE, '--format', 'jsonl', '--anonymize', PASSPHRASE);
    const classifyByFile = cumma('classify', SAMPLE, '--format', 'jsonl', '--anonymize-key-file', passphraseFile);
    expect(classifyByFile.status, classifyByFile.stderr).toBe(0);
    expect(classifyByFile.stdout).toBe(classifyByKey.stdout);
  });

  it.skipIf(findOnPath('mkfifo') === undefined)('reads the key from a pipe (as from <(pass show cumma))', async () => {
    const fifo = join(dir, 'key.fifo');
    expect(spawnSync('mkfifo', ['-m', '600', fifo]).status).toBe(0);
    // The writer is a process of its own: opening a pipe blocks until its reader opens it too,
    // which a cumma that does not read it would never do.
    const writer = spawn('sh', ['-c', `printf '%s\\n' "$KEY" > "$FIFO"`], { env: { ...process.env, KEY: KEY_HEX, FIFO: fifo } });
    try {
      const child = spawn(process.execPath, [CLI, 'flows', SAMPLE, '--format', 'jsonl', '--anonymize-key-file', fifo]);
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const status = await new Promise<number | null>((resolve) => child.once('close', resolve));
      expect(status, stderr).toBe(0);
      expect(stdout).toBe(cumma('flows', SAMPLE, '--format', 'jsonl', '--anonymize', KEY_HEX).stdout);
    } finally {
      writer.kill();
    }
  });

  it('refuses a key file that group or others can access, naming the file', () => {
    for (const mode of [0o644, 0o640, 0o602]) {
      const exposed = keyFile('exposed.key', `${KEY_HEX}\n`, mode);
      for (const command of ['flows', 'classify']) {
        const result = cumma(command, SAMPLE, '--anonymize-key-file', exposed);
        expect(result.status, `${command} ${mode.toString(8)}`).toBe(1);
        expect(result.stderr).toBe(
          `cumma ${command}: error: --anonymize-key-file ${exposed} is accessible to group or others (mode ${mode.toString(8)}); ` +
            `whoever can read it can undo the anonymisation: 'chmod 600 ${exposed}', and make a new key if others may have read it\n`,
        );
        expect(result.stdout).toBe('');
      }
    }
  });

  it('names the file when it cannot be read or holds no usable key', () => {
    const missing = join(dir, 'missing.key');
    expect(cumma('flows', SAMPLE, '--anonymize-key-file', missing)).toMatchObject({ status: 1, stderr: `cumma flows: error: cannot read --anonymize-key-file ${missing}: no such file or directory\n` });
    const short = keyFile('short.key', 'abc\n');
    const refused = cumma('classify', SAMPLE, '--anonymize-key-file', short);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`cumma classify: error: --anonymize-key-file ${short} expects either 64 hexadecimal digits`);
    expect(refused.stderr).toContain('got only 3 characters');
    const big = keyFile('capture.key', readFileSync(SAMPLE).subarray(0, 4096).toString('latin1'));
    expect(cumma('flows', SAMPLE, '--anonymize-key-file', big).stderr).toBe(`cumma flows: error: --anonymize-key-file ${big} holds more than 1024 bytes: not a key file\n`);
    expect(cumma('flows', SAMPLE, '--anonymize-key-file', dir).stderr).toBe(`cumma flows: error: --anonymize-key-file ${dir} is not a regular file or a pipe\n`);
  });

  it('is a usage mistake together with --anonymize KEY', () => {
    const file = keyFile('both.key', `${KEY_HEX}\n`);
    for (const command of ['flows', 'classify', 'watch']) {
      const result = cumma(command, command === 'watch' ? dir : SAMPLE, '--anonymize', KEY_HEX, '--anonymize-key-file', file);
      expect(result.status, command).toBe(2);
      expect(result.stderr).toContain(`cumma ${command}: give --anonymize KEY or --anonymize-key-file FILE, not both\n\nusage: cumma ${command}`);
    }
    const watch = cumma('watch', dir, '--anonymize-key-file', file, '--no-anonymize');
    expect(watch.status).toBe(2);
    expect(watch.stderr).toContain('cumma watch: give --anonymize-key-file FILE or --no-anonymize, not both');
  });

  it('is offered by each command\'s usage, which says that a key on the command line shows in ps', () => {
    for (const command of ['flows', 'classify', 'watch']) {
      const usage = cumma(command, '--help').stdout.replace(/\s+/g, ' ');
      expect(usage, command).toContain('[--anonymize KEY | --anonymize-key-file FILE');
      expect(usage, command).toContain('a KEY on the command line is visible to other local users (ps)');
    }
  });
});

describe('what flows and classify print on stderr with --anonymize', () => {
  const KEY = parseAnonymizeKey(KEY_HEX).bytes;
  const image = (address: string): string => new IpAnonymizer(KEY).anonymize(address);

  it('names a capture that fails part-way by its anonymised name, in notes and errors', () => {
    // Found in review: "cumma: 198.51.100.1-corrupt.pcap: 1 dialog; …", "cumma classify: error: 198.51.100.1-corrupt.pcap: byte offset …"
    const cut = join(dir, '198.51.100.1-corrupt.pcapng');
    writeFileSync(cut, readFileSync(SAMPLE).subarray(0, 300_000));
    const shown = join(dir, `${image('198.51.100.1')}-corrupt.pcapng`);
    const classify = cumma('classify', cut, '--format', 'jsonl', '--anonymize', KEY_HEX);
    expect(classify.status).toBe(1);
    expect(classify.stderr).toMatch(new RegExp(`^cumma: ${escape(shown)}: \\d+ dialogs; model `));
    expect(classify.stderr).toContain(`cumma classify: error: ${shown}: byte offset `);
    const flows = cumma('flows', cut, '--format', 'jsonl', '--anonymize', KEY_HEX, '--stats');
    expect(flows.status).toBe(1);
    expect((JSON.parse(flows.stderr.split('\n')[0]!) as { file: string }).file).toBe(shown);
    expect(flows.stderr).toContain(`cumma flows: error: ${shown}: byte offset `);
    for (const stderr of [classify.stderr, flows.stderr]) expect(stderr).not.toContain('198.51.100.1');
    // Without --anonymize, the name as it is.
    expect(cumma('flows', cut, '--stats').stderr).toContain(`"file":"${cut}"`);
  });

  it('names a missing capture and undecoded packets by the anonymised name', () => {
    const missing = join(dir, 'nonexistent-10.1.2.3.pcap');
    for (const command of ['flows', 'classify']) {
      const result = cumma(command, missing, '--format', 'jsonl', '--anonymize', KEY_HEX);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`nonexistent-${image('10.1.2.3')}.pcap`);
      expect(result.stderr, command).not.toContain('10.1.2.3');
    }
    // A pcap of 802.11 frames: reported once, naming the file.
    const wifi = join(dir, '2001:db8::7.pcap');
    writeFileSync(wifi, bytes(pcapHeader({ littleEndian: true, linkType: 105 }), pcapRecord(true, 1_700_000_000, 0, new Uint8Array(24))));
    for (const command of ['flows', 'classify']) {
      const result = cumma(command, wifi, '--format', 'jsonl', '--anonymize', KEY_HEX);
      expect(result.status, result.stderr).toBe(0);
      expect(result.stderr).toContain(`cumma: ${join(dir, `${image('2001:db8::7')}.pcap`)}: 1 packet with `);
      expect(result.stderr, command).not.toContain('2001:db8::7');
    }
  });

  it('anonymises the capture name in the records too, where a number comes right before its address', () => {
    const named = join(dir, '2024.01.15.10.1.2.3.pcapng');
    copyFileSync(SAMPLE, named);
    const records = cumma('classify', named, '--format', 'jsonl', '--anonymize', KEY_HEX).stdout.trim().split('\n').map((line) => JSON.parse(line) as { capture: string });
    expect(records.length).toBeGreaterThan(10);
    for (const record of records) expect(record.capture).toBe(`2024.01.15.${image('10.1.2.3')}.pcapng`);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
