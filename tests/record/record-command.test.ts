// `cumma record` command line: option checking and what it prints, with the recorder replaced
// (the real recorder is exercised by recorder.integration.test.ts).

import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../agent/src/cli/usage-error';
import { USAGE_CLASSES } from '../../agent/src/labels';
import { RecordError } from '../../agent/src/record/errors';
import { RecordOptions, RecordSummary } from '../../agent/src/record/record';
import { RecordCommandDeps, RecordScriptRequest, runRecord } from '../../agent/src/record/record-command';
import { longChatScript } from './scripts';

function capture(): { stream: PassThrough; text(): string } {
  const stream = new PassThrough();
  let text = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    text += chunk;
  });
  return { stream, text: () => text };
}

const SUMMARY: RecordSummary = {
  output: 'out.pcapng',
  truthOutput: 'out.pcapng.truth.jsonl',
  speed: 4,
  scriptDurationUs: 10_000_000,
  wallMs: 3000,
  replayMs: 2500,
  startupMs: 280,
  connections: 3,
  messages: 40,
  packets: 120,
  bytes: 50_000,
  truthRecords: 5,
  controlPackets: 12,
  foreignPackets: 0,
  dumpcap: { captured: 132, received: 132, dropped: 0 },
  maxLateUs: 900,
  clockOffsetUs: 0,
  stampGapUs: 1000,
  tlsBytes: { sent: 1000, received: 1000 },
  udpDatagrams: { sent: 20, received: 20 },
  udpEnlarged: 0,
};

interface Harness {
  deps: RecordCommandDeps;
  requests: RecordScriptRequest[];
  recorded: RecordOptions[];
}

function harness(result: RecordSummary | RecordError = SUMMARY): Harness {
  const requests: RecordScriptRequest[] = [];
  const recorded: RecordOptions[] = [];
  return {
    requests,
    recorded,
    deps: {
      apps: ['whatsapp', 'telegram', 'signal'],
      buildScript: (request) => {
        requests.push(request);
        return longChatScript(1);
      },
      record: (options) => {
        recorded.push(options);
        options.onProgress?.('capturing on lo');
        return result instanceof RecordError ? Promise.reject(result) : Promise.resolve(result);
      },
    },
  };
}

async function run(args: string[], h = harness()): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = capture();
  const stderr = capture();
  const code = await runRecord(args, { stdout: stdout.stream, stderr: stderr.stream }, h.deps);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe('cumma record options', () => {
  it('builds the usage script with the defaults and records it', async () => {
    const h = harness();
    const { code, stdout, stderr } = await run(['--usage', 'photo', '-o', 'out.pcapng'], h);
    expect(code).toBe(0);
    expect(h.requests).toEqual([{ usage: 'photo', app: 'whatsapp', durationS: 60, seed: 1 }]);
    expect(h.recorded).toHaveLength(1);
    expect(h.recorded[0]).toMatchObject({ output: 'out.pcapng', speed: 1 });
    expect(h.recorded[0]!.dumpcapPath).toBeUndefined();
    expect(stdout).toBe(
      'recorded photo (whatsapp) into out.pcapng: 120 packets, 50000 bytes, 3 connections in 2.5 s at speed 4; truth: out.pcapng.truth.jsonl (5 records)\n',
    );
    expect(stderr).toBe('cumma record: capturing on lo\n');
  });

  it('passes app, duration, speed, seed and dumpcap path on, and prints the summary as JSON with --stats', async () => {
    const h = harness();
    const args = ['--usage', 'voice_call', '--app', 'signal', '--duration', '12.5', '--speed', '4', '--seed', '7', '--output', 'x.pcapng', '--dumpcap', '/opt/dumpcap', '--stats'];
    const { code, stderr } = await run(args, h);
    expect(code).toBe(0);
    expect(h.requests).toEqual([{ usage: 'voice_call', app: 'signal', durationS: 12.5, seed: 7 }]);
    expect(h.recorded[0]).toMatchObject({ output: 'x.pcapng', speed: 4, dumpcapPath: '/opt/dumpcap' });
    expect(JSON.parse(stderr.trim().split('\n').at(-1)!)).toEqual(SUMMARY);
  });

  it.each([
    [['-o', 'x.pcapng'], `record needs --usage, one of ${USAGE_CLASSES.join(', ')}`],
    [['--usage', 'selfie', '-o', 'x.pcapng'], `--usage must be one of ${USAGE_CLASSES.join(', ')}; got 'selfie'`],
    [['--usage', 'text', '--app', 'icq', '-o', 'x.pcapng'], "--app must be one of whatsapp, telegram, signal; got 'icq'"],
    [['--usage', 'text', '--speed', '0', '-o', 'x.pcapng'], "--speed expects a positive number, got '0'"],
    [['--usage', 'text', '--speed', 'fast', '-o', 'x.pcapng'], "--speed expects a positive number, got 'fast'"],
    [['--usage', 'text', '--speed', '1000', '-o', 'x.pcapng'], "--speed must be at most 100, got '1000'"],
    [['--usage', 'text', '--duration=-5', '-o', 'x.pcapng'], "--duration expects a positive number, got '-5'"],
    [['--usage', 'text', '--seed', '1.5', '-o', 'x.pcapng'], "--seed expects a non-negative integer, got '1.5'"],
    [['--usage', 'text'], 'record needs -o OUT.pcapng'],
    [['--usage', 'text', '-o', 'x.pcapng', 'extra'], "record takes no positional arguments, got 'extra'"],
  ])('refuses %j: %s', async (args, message) => {
    const h = harness();
    await expect(run(args, h)).rejects.toThrow(new UsageError(message));
    expect(h.recorded).toHaveLength(0);
  });

  it('leaves unknown options to the CLI\'s parse-error handling', async () => {
    await expect(run(['--usage', 'text', '-o', 'x', '--bogus'])).rejects.toMatchObject({ code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
  });
});

describe('cumma record outcomes', () => {
  it('prints a recorder error and exits 1', async () => {
    const error = new RecordError('RECORD_DUMPCAP_MISSING', "dumpcap not found at 'dumpcap': install it");
    const { code, stdout, stderr } = await run(['--usage', 'text', '-o', 'x.pcapng'], harness(error));
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain("cumma record: error: dumpcap not found at 'dumpcap': install it [RECORD_DUMPCAP_MISSING]\n");
  });

  it('exits 130 when the recording was interrupted', async () => {
    const error = new RecordError('RECORD_INTERRUPTED', 'recording interrupted by SIGINT');
    const { code, stderr } = await run(['--usage', 'text', '-o', 'x.pcapng'], harness(error));
    expect(code).toBe(130);
    expect(stderr).toContain('cumma record: error: recording interrupted by SIGINT [RECORD_INTERRUPTED]');
  });

  it('warns about drops, lost datagrams and late sends', async () => {
    const lossy: RecordSummary = { ...SUMMARY, dumpcap: { captured: 100, received: 103, dropped: 3 }, udpDatagrams: { sent: 20, received: 18 }, maxLateUs: 80_000 };
    const { code, stderr } = await run(['--usage', 'text', '-o', 'x.pcapng'], harness(lossy));
    expect(code).toBe(0);
    expect(stderr).toContain('warning: dumpcap dropped 3 packets (kernel buffer full): lower --speed');
    expect(stderr).toContain('warning: 2 of 20 UDP datagrams were lost on loopback');
    expect(stderr).toContain('warning: a message was sent 80 ms late');
  });
});
