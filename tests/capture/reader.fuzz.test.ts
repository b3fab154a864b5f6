import { describe, expect, it } from 'vitest';
import { CaptureReader } from '../../agent/src/capture/capture-reader';
import { CaptureError } from '../../agent/src/capture/errors';
import { FlowTable } from '../../agent/src/flows/flow-table';
import { randomCapture, randomInt, seededRandom } from '../support/random-capture';

const CASES = 4000;
/** Generous: a healthy read of these small inputs takes microseconds. */
const MAX_MS_PER_CASE = 250;

/** Mutations that real corruption produces: flipped bits, overwritten length fields, cuts. */
function mutate(data: Uint8Array, random: () => number): Uint8Array {
  const out = data.slice();
  const mutations = 1 + randomInt(random, 4);
  let result = out;
  for (let count = 0; count < mutations; count++) {
    const kind = randomInt(random, 6);
    const at = randomInt(random, result.length);
    if (kind === 0) result[at]! ^= 1 << randomInt(random, 8);
    else if (kind === 1) result[at] = randomInt(random, 256);
    else if (kind === 2) {
      // Overwrite an aligned 32-bit word: block lengths, captured lengths, option headers.
      const word = at & ~3;
      const values = [0, 4, 8, 12, 0xffffffff, 0x7fffffff, 0x10000000, randomInt(random, 2 ** 32), randomInt(random, 512)];
      new DataView(result.buffer, result.byteOffset).setUint32(Math.min(word, result.length - 4), values[randomInt(random, values.length)]!, random() < 0.5);
    } else if (kind === 3) result = result.slice(0, at);
    else if (kind === 4) {
      const inserted = new Uint8Array(result.length + 4);
      inserted.set(result.subarray(0, at));
      inserted.set(result.subarray(at), at + 4);
      result = inserted;
    } else {
      result = result.slice(0, at).length ? Uint8Array.from([...result.subarray(0, at), ...result.subarray(at + 1 + randomInt(random, 8))]) : result;
    }
    if (result.length < 4) break;
  }
  return result;
}

describe('reader fuzzing', () => {
  it(`survives ${CASES} mutated captures: packets or a CaptureError with an in-range offset, never a crash or hang`, () => {
    const random = seededRandom(0xc0ffee);
    const outcomes = { clean: 0, errors: 0 };
    const codes = new Set<string>();
    for (let index = 0; index < CASES; index++) {
      const data = mutate(randomCapture(random), random);
      const chunk = random() < 0.5 ? data.length || 1 : 1 + randomInt(random, 64);
      const started = performance.now();
      const reader = new CaptureReader({ maxBlockLength: 1 << 20 });
      const flows = new FlowTable(() => undefined, { maxFlows: 64 });
      try {
        for (let at = 0; at < data.length; at += chunk) {
          reader.append(data.subarray(at, at + chunk));
          for (let packet = reader.next(); packet; packet = reader.next()) {
            expect(packet.capturedLength).toBeLessThanOrEqual(data.length);
            flows.add(packet);
          }
        }
        reader.finish();
        flows.flush();
        outcomes.clean++;
      } catch (error) {
        if (!(error instanceof CaptureError)) throw new Error(`case ${index}: ${String(error)}`, { cause: error });
        expect(error.offset, `case ${index}: ${error.message}`).toBeGreaterThanOrEqual(0);
        expect(error.offset, `case ${index}: ${error.message}`).toBeLessThanOrEqual(data.length);
        expect(error.message).toMatch(/byte offset \d+/);
        codes.add(error.code);
        outcomes.errors++;
      }
      expect(performance.now() - started, `case ${index} took too long`).toBeLessThan(MAX_MS_PER_CASE);
    }
    // The mutations must actually exercise both paths and several checks.
    expect(outcomes.clean).toBeGreaterThan(CASES / 20);
    expect(outcomes.errors).toBeGreaterThan(CASES / 4);
    expect(codes.size).toBeGreaterThanOrEqual(5);
  });
});
