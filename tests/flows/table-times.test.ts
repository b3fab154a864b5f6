// Times in the tables people read (`cumma flows`, `classify`, `watch`): before 1970 the fraction
// was printed negative ("02:03:20.-750000Z"), and a timestamp beyond what a JS Date holds made
// the whole `--format table` run fail with "Invalid time value", printing no flow at all (review
// t05). They now print the µs number instead and never fail.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialogFormatter } from '../../agent/src/cli/dialog-format';
import { flowFormatter, utcIsoTime } from '../../agent/src/cli/flow-format';
import { liveTableRow } from '../../agent/src/cli/live-table';
import { FlowRecord } from '../../agent/src/flows/flow-record';
import { DialogRecord } from '../../agent/src/pipeline/dialog-record';
import { bytes, enhancedPacket, ethernet, interfaceDescription, ipv4, sectionHeader, udp } from '../support/capture-bytes';
import { CLI } from '../capture/tshark-per-tuple';

describe('utcIsoTime', () => {
  it.each([
    [0, 6, '1970-01-01T00:00:00.000000Z'],
    [1_700_000_000_000_005, 6, '2023-11-14T22:13:20.000005Z'],
    [1_700_000_000_123_456, 3, '2023-11-14T22:13:20.123Z'],
    [-1, 6, '1969-12-31T23:59:59.999999Z'],
    [-1_699_998_999_750_000, 6, '1916-02-18T02:03:20.250000Z'],
    [-1_699_998_999_750_000, 3, '1916-02-18T02:03:20.250Z'],
    [Number.MAX_SAFE_INTEGER, 6, '2255-06-05T23:47:34.740991Z'],
  ])('prints %i µs with %i digits as %s', (us, digits, text) => {
    expect(utcIsoTime(us, digits)).toBe(text);
  });

  it('agrees with Date to the millisecond across the whole safe range, before 1970 too', () => {
    for (const us of [-Number.MAX_SAFE_INTEGER, -86_400_000_001, -999, 1_234_567, 4_102_444_800_000_000]) {
      expect(utcIsoTime(us, 3)).toBe(new Date(Math.floor(us / 1000)).toISOString());
    }
  });

  it('prints the µs number for times no date should show, instead of throwing', () => {
    expect(utcIsoTime(2 ** 64, 6)).toBe('18446744073709552000 µs');
    expect(utcIsoTime(-(2 ** 60), 6)).toBe('-1152921504606847000 µs');
    expect(utcIsoTime(Number.NaN, 6)).toBe('NaN µs');
  });
});

const FAR = 2 ** 64;
const flow: FlowRecord = {
  l4: 'udp',
  client: { ip: '10.0.0.1', port: 1 },
  server: { ip: '10.0.0.2', port: 2 },
  firstUs: FAR,
  lastUs: FAR,
  packets: { up: 1, down: 0 },
  bytes: { up: 52, down: 0 },
};
const dialog: DialogRecord = {
  ...flow,
  capture: 'x.pcapng',
  session: 1,
  dialog: 1,
  startUs: FAR,
  endUs: FAR,
  usage: 'text',
  confidence: 0.5,
  scores: { text: 0.5 },
  status: 'final',
  outlier: false,
  model: 'default@1',
};

describe('the tables with a time beyond any date', () => {
  it('print a row in all three', () => {
    expect(flowFormatter('table').format(flow)).toContain('18446744073709552000 µs');
    expect(dialogFormatter('table').format(dialog)).toContain('18446744073709552000 µs');
    expect(liveTableRow({ ...dialog, id: 'x' })).toContain('18446744073709552000 µs');
  });

  it('print the same text as before for ordinary times', () => {
    const at = 1_705_312_800_103_353;
    expect(flowFormatter('table').format({ ...flow, firstUs: at, lastUs: at })).toContain('2024-01-15T10:00:00.103353Z');
    expect(dialogFormatter('table').format({ ...dialog, startUs: at, endUs: at })).toContain('2024-01-15 10:00:00.103  ');
    expect(liveTableRow({ ...dialog, id: 'x', startUs: at, endUs: at }).startsWith('10:00:00.103  ')).toBe(true);
  });
});

describe('cumma flows --format table on a capture with one absurd timestamp', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cumma-table-times-'));
  });
  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('prints every flow and exits 0', () => {
    const frame = (n: number): Uint8Array => ethernet(0x0800, ipv4({ src: `10.${n}.0.1`, dst: `10.${n}.0.2`, protocol: 17, payload: udp(1, 2, 10) }));
    const file = join(dir, 'far-future.pcapng');
    writeFileSync(
      file,
      bytes(
        sectionHeader(true),
        interfaceDescription(true, { linkType: 1 }),
        enhancedPacket(true, { timestamp: 1_700_000_000_000_000n, data: frame(9) }),
        enhancedPacket(true, { timestamp: 1_700_000_000_000_001n, data: frame(9) }),
        enhancedPacket(true, { timestamp: 0xffff_ffff_ffff_ffffn, data: frame(2) }),
      ),
    );
    const result = spawnSync(process.execPath, [CLI, 'flows', file, '--format', 'table'], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const rows = result.stdout.trimEnd().split('\n');
    expect(rows).toHaveLength(3);
    expect(rows[1]).toContain('2023-11-14T22:13:20.000000Z');
    expect(rows[2]).toContain('18446744073709552000 µs');
  });
});
