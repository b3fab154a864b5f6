/**
 * Small numeric helpers for feature extraction, over typed arrays or ranges of them (the
 * extractor keeps its columns in shared scratch arrays). Definitions (population standard
 * deviation, linearly interpolated percentiles, 0 for no values) are documented in
 * feature-schema.ts. Values are always added in index order, so a range gives the same bits as
 * a copy of it would.
 */

/** Sum of values[from, from + count). */
export function sumRange(values: Float64Array, from: number, count: number): number {
  let sum = 0;
  for (let i = from; i < from + count; i++) sum += values[i]!;
  return sum;
}

/** Population standard deviation (÷n) of values[from, from + count) around `mean`; 0 for fewer than two values. */
export function stdRange(values: Float64Array, from: number, count: number, mean: number): number {
  if (count < 2) return 0;
  let squares = 0;
  for (let i = from; i < from + count; i++) {
    const deviation = values[i]! - mean;
    squares += deviation * deviation;
  }
  return Math.sqrt(squares / count);
}

/** Population standard deviation (÷n) around `mean`; 0 for fewer than two values. */
export function populationStd(values: Float64Array, mean: number): number {
  return stdRange(values, 0, values.length, mean);
}

/**
 * Percentile p ∈ [0, 1] of ascending sorted[0, n), interpolating linearly between the closest
 * ranks (numpy's default): h = (n-1)p, x[⌊h⌋] + (h-⌊h⌋)(x[⌊h⌋+1]-x[⌊h⌋]). 0 for no values.
 */
export function percentileOfPrefix(sorted: Float64Array, n: number, p: number): number {
  if (n === 0) return 0;
  const h = (n - 1) * p;
  const below = Math.floor(h);
  if (below >= n - 1) return sorted[n - 1]!;
  const low = sorted[below]!;
  return low + (h - below) * (sorted[below + 1]! - low);
}

/** Percentile p ∈ [0, 1] of ascending `sorted` (see percentileOfPrefix). */
export function percentileOfSorted(sorted: Float64Array, p: number): number {
  return percentileOfPrefix(sorted, sorted.length, p);
}
