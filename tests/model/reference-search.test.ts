import { describe, expect, it } from 'vitest';
import { Prng } from '../../agent/src/common/prng';
import { ReferenceSearch } from '../../agent/src/model/reference-search';

/** The definition: every reference's full weighted sum, the k smallest, mean of their roots. */
function bruteForce(references: Float64Array, f: number, weights: Float64Array | undefined, k: number, x: Float64Array): number {
  const count = references.length / f;
  const distances: number[] = [];
  for (let r = 0; r < count; r++) {
    let sum = 0;
    for (let j = 0; j < f; j++) {
      const d = x[j]! - references[r * f + j]!;
      sum += d * d;
    }
    distances.push(weights === undefined ? sum : sum * weights[r]!);
  }
  const best = Float64Array.from(distances).sort().subarray(0, k);
  let total = 0;
  for (let i = 0; i < k; i++) total += Math.sqrt(best[i] ?? Infinity);
  return total / k;
}

function randomCase(seed: number, count: number, f: number, weighted: boolean) {
  const prng = new Prng(seed);
  // Clustered references (as k-means centres are), some duplicated, so ties and near ties occur.
  const centres = Array.from({ length: 4 }, () => Float64Array.from({ length: f }, () => prng.normal() * 3));
  const references = new Float64Array(count * f);
  for (let r = 0; r < count; r++) {
    const centre = centres[r % centres.length]!;
    for (let j = 0; j < f; j++) references[r * f + j] = r % 9 === 5 ? references[(r - 1) * f + j]! : centre[j]! + prng.normal();
  }
  const weights = weighted ? Float64Array.from({ length: count }, () => 1 / (0.5 + prng.next()) ** 2) : undefined;
  const queries = Array.from({ length: 300 }, (_, i) =>
    i % 10 === 0 ? Float64Array.from({ length: f }, () => prng.normal() * 20) : Float64Array.from(centres[i % 4]!, (m) => m + prng.normal() * (i % 3)),
  );
  // A query exactly on a reference.
  queries.push(references.slice(f, 2 * f));
  return { references, weights, queries };
}

describe('reference search', () => {
  for (const [count, f, weighted, k] of [
    [240, 106, true, 3],
    [240, 106, false, 3],
    [50, 5, true, 1],
    [30, 2, false, 4],
    [7, 12, true, 3],
  ] as const) {
    it(`equals a brute-force scan bit for bit (${count} refs × ${f} features, k ${k}, ${weighted ? 'weighted' : 'unweighted'})`, () => {
      const { references, weights, queries } = randomCase(count * f + k, count, f, weighted);
      const search = new ReferenceSearch(references, f, weights, k);
      for (const x of queries) expect(search.meanDistance(x)).toBe(bruteForce(references, f, weights, k, x));
    });
  }

  it('with a bound, answers whether the distance exceeds it exactly as the full distance does', () => {
    const { references, weights, queries } = randomCase(3, 240, 106, true);
    const search = new ReferenceSearch(references, 106, weights, 3);
    const distances = queries.map((x) => bruteForce(references, 106, weights, 3, x));
    const sorted = [...distances].sort((a, b) => a - b);
    // Bounds at, just around and between the actual distances.
    for (const bound of [sorted[0]!, sorted[150]!, sorted[150]! * (1 - 1e-15), sorted[299]!, sorted[150]! / 2, 0, Infinity]) {
      queries.forEach((x, i) => {
        const answer = search.meanDistance(x, bound);
        expect(answer > bound).toBe(distances[i]! > bound);
        if (distances[i]! > bound) expect(answer).toBe(distances[i]);
      });
    }
  });

  it('answers Infinity with fewer references than k, and rejects bad shapes', () => {
    const search = new ReferenceSearch(Float64Array.of(1, 2, 3, 4), 2, undefined, 3);
    expect(search.meanDistance(Float64Array.of(0, 0))).toBe(Infinity);
    expect(new ReferenceSearch(new Float64Array(0), 2, undefined, 1).meanDistance(Float64Array.of(0, 0))).toBe(Infinity);
    expect(() => new ReferenceSearch(Float64Array.of(1, 2, 3), 2, undefined, 1)).toThrow(RangeError);
    expect(() => new ReferenceSearch(Float64Array.of(1, 2), 2, Float64Array.of(1, 1), 1)).toThrow(RangeError);
    expect(() => new ReferenceSearch(Float64Array.of(1, 2), 2, undefined, 0)).toThrow(RangeError);
  });
});
