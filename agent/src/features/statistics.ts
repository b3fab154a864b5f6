/**
 * Small numeric helpers for feature extraction, over typed arrays. Definitions (population
 * standard deviation, linearly interpolated percentiles, 0 for no values) are documented in
 * feature-schema.ts.
 */

export function sumOf(values: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum;
}

/** Mean; 0 for no values. */
export function meanOf(values: Float64Array): number {
  return values.length === 0 ? 0 : sumOf(values) / values.length;
}

/** Population standard deviation (÷n) around `mean`; 0 for fewer than two values. */
export function populationStd(values: Float64Array, mean: number): number {
  if (values.length < 2) return 0;
  let squares = 0;
  for (let i = 0; i < values.length; i++) {
    const deviation = values[i]! - mean;
    squares += deviation * deviation;
  }
  return Math.sqrt(squares / values.length);
}

/**
 * Percentile p ∈ [0, 1] of ascending `sorted`, interpolating linearly between the closest ranks
 * (numpy's default): h = (n-1)p, x[⌊h⌋] + (h-⌊h⌋)(x[⌊h⌋+1]-x[⌊h⌋]). 0 for no values.
 */
export function percentileOfSorted(sorted: Float64Array, p: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const h = (n - 1) * p;
  const below = Math.floor(h);
  if (below >= n - 1) return sorted[n - 1]!;
  const low = sorted[below]!;
  return low + (h - below) * (sorted[below + 1]! - low);
}
