/**
 * Seeded k-means (Lloyd's algorithm, k-means++ seeding) over row-major vectors. The outlier
 * detector summarises each class by a few centres, so that the distance check of a dialog costs
 * tens of comparisons instead of thousands.
 */
import { Prng } from '../common/prng';

function squaredDistance(a: Float64Array, aBase: number, b: Float64Array, bBase: number, f: number): number {
  let sum = 0;
  for (let j = 0; j < f; j++) {
    const d = a[aBase + j]! - b[bBase + j]!;
    sum += d * d;
  }
  return sum;
}

/** Centres (row-major, at most `k` rows) of the `n` rows of `points`, each of `f` values. */
export function kMeans(points: Float64Array, f: number, k: number, prng: Prng, iterations = 10): Float64Array {
  const n = points.length / f;
  if (n <= k) return points.slice();
  const centres = new Float64Array(k * f);
  // k-means++: the first centre at random, each next one with probability ∝ squared distance.
  const nearest = new Float64Array(n).fill(Infinity);
  let chosen = Math.floor(prng.next() * n);
  for (let c = 0; c < k; c++) {
    centres.set(points.subarray(chosen * f, chosen * f + f), c * f);
    let total = 0;
    for (let i = 0; i < n; i++) {
      nearest[i] = Math.min(nearest[i]!, squaredDistance(points, i * f, centres, c * f, f));
      total += nearest[i]!;
    }
    let draw = prng.next() * total;
    chosen = n - 1;
    for (let i = 0; i < n; i++) {
      draw -= nearest[i]!;
      if (draw <= 0) {
        chosen = i;
        break;
      }
    }
  }
  const assignment = new Int32Array(n);
  const sums = new Float64Array(k * f);
  const counts = new Int32Array(k);
  for (let iteration = 0; iteration < iterations; iteration++) {
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestDistance = Infinity;
      for (let c = 0; c < k; c++) {
        const d = squaredDistance(points, i * f, centres, c * f, f);
        if (d < bestDistance) {
          bestDistance = d;
          best = c;
        }
      }
      assignment[i] = best;
    }
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const c = assignment[i]!;
      counts[c]!++;
      for (let j = 0; j < f; j++) sums[c * f + j]! += points[i * f + j]!;
    }
    // An empty cluster keeps its centre.
    for (let c = 0; c < k; c++) if (counts[c]! > 0) for (let j = 0; j < f; j++) centres[c * f + j] = sums[c * f + j]! / counts[c]!;
  }
  return centres;
}
