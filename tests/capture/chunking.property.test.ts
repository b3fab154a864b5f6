import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomCapture, seededRandom } from '../support/random-capture';
import { readInChunks, readWhole } from '../support/read-all';

describe('incremental reading (property)', () => {
  it('gives output identical to a whole-file read for any chunking', () => {
    let packetsCompared = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 20 }), (seed, chunkSizes) => {
        const data = randomCapture(seededRandom(seed));
        const whole = readWhole(data);
        packetsCompared += whole.length;
        expect(readInChunks(data, chunkSizes)).toEqual(whole);
      }),
      { numRuns: 300 },
    );
    expect(packetsCompared).toBeGreaterThan(300);
  });

  it('gives output identical to a whole-file read when fed one byte at a time', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const data = randomCapture(seededRandom(seed));
      expect(readInChunks(data, [1])).toEqual(readWhole(data));
    }
  });
});
