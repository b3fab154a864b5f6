// `--idle-timeout SECONDS` in whole µs, as timestamps are: 4.1 s used to become
// 4099999.9999999995 µs, so a gap of exactly 4.1 s (which README says keeps the flow) split it
// (review t23).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytes, ethernet, ipv4, pcapHeader, pcapRecord, udp } from '../support/capture-bytes';
import { CLI } from '../capture/tshark-per-tuple';

const T0 = 1_700_000_000;

function flowCount(file: string, timeout: string): number {
  const result = spawnSync(process.execPath, [CLI, 'flows', file, '--format', 'jsonl', '--idle-timeout', timeout], { encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout.trimEnd().split('\n').length;
}

describe('cumma flows --idle-timeout with a fraction of a second', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cumma-idle-timeout-'));
  });
  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  /** Two packets of one UDP flow `gapUs` apart. */
  function capture(name: string, gapUs: number): string {
    const frame = ethernet(0x0800, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, payload: udp(1000, 53, 4) }));
    const at = (us: number): Uint8Array => pcapRecord(true, T0 + Math.floor(us / 1e6), us % 1e6, frame);
    const file = join(dir, name);
    writeFileSync(file, bytes(pcapHeader({ littleEndian: true, linkType: 1 }), at(0), at(gapUs)));
    return file;
  }

  it.each([
    ['4.1', 4_100_000],
    ['4.2', 4_200_000],
    ['0.3', 300_000],
    ['1.005', 1_005_000],
  ])('keeps a flow whose gap is exactly --idle-timeout %s', (timeout, gapUs) => {
    expect(flowCount(capture(`gap-${timeout}.pcap`, gapUs), timeout)).toBe(1);
  });

  it.each([
    ['4.1', 4_100_001],
    ['0.3', 300_001],
  ])('splits a flow whose gap is 1 µs longer than --idle-timeout %s', (timeout, gapUs) => {
    expect(flowCount(capture(`gap-${timeout}-plus.pcap`, gapUs), timeout)).toBe(2);
  });

  it('takes a timeout below half a µs as 1 µs: whole µs, never 0', () => {
    expect(flowCount(capture('gap-1us.pcap', 1), '0.0000001')).toBe(1);
  });
});
