// Compares a whole feature vector with hand-computed values: every feature named in `nonZero`
// must match (relative tolerance 1e-12), every other feature must be exactly 0.
import { expect } from 'vitest';
import { DialogPacketLog } from '../../agent/src/features/dialog-packet-log';
import { FEATURES, featureIndex, namedFeatures } from '../../agent/src/features/feature-schema';
import { TransportName } from '../../agent/src/flows/flow-record';

export const T0 = 1_700_000_000_000_000; // µs since the epoch, a realistic magnitude

/** [ms after T0, 'up' | 'down', frame length in bytes] */
export type PacketRow = readonly [number, 'up' | 'down', number];

export function logOf(transport: TransportName | undefined, rows: readonly PacketRow[]): DialogPacketLog {
  const log = new DialogPacketLog(transport);
  for (const [ms, direction, length] of rows) log.push(T0 + ms * 1000, length, direction === 'up');
  return log;
}

export function expectFeatures(vector: Float64Array, nonZero: Record<string, number>): void {
  expect(vector).toHaveLength(FEATURES.length);
  for (const name of Object.keys(nonZero)) featureIndex(name); // throws on a misspelt name
  const actual = namedFeatures(vector);
  const mismatches: string[] = [];
  for (const { name } of FEATURES) {
    const want = nonZero[name] ?? 0;
    const got = actual[name]!;
    const ok = want === 0 ? got === 0 : Math.abs(got - want) <= 1e-12 * Math.abs(want);
    if (!ok) mismatches.push(`${name}: got ${got}, want ${want}`);
  }
  expect(mismatches).toEqual([]);
}
