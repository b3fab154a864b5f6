/**
 * Feature standardisation (z-scores) fitted on training vectors and stored with the model, so a
 * loaded model scales new vectors exactly as it scaled its training data. Used by k-NN and by the
 * outlier detector (distances need features on one scale); the random forest needs none.
 */
import { JsonObject } from '../common/json-checks';

export interface ScalerJson {
  readonly mean: number[];
  /** Population standard deviation per feature; a constant feature stores 1 (it then maps to 0). */
  readonly std: number[];
}

export class StandardScaler {
  private constructor(
    readonly mean: Float64Array,
    readonly std: Float64Array,
  ) {}

  get featureCount(): number {
    return this.mean.length;
  }

  static fit(vectors: readonly Float64Array[]): StandardScaler {
    const first = vectors[0];
    if (first === undefined) throw new RangeError('StandardScaler.fit: no vectors');
    const f = first.length;
    const mean = new Float64Array(f);
    for (const v of vectors) {
      if (v.length !== f) throw new RangeError(`StandardScaler.fit: vector of length ${v.length}, expected ${f}`);
      for (let j = 0; j < f; j++) mean[j]! += v[j]!;
    }
    for (let j = 0; j < f; j++) mean[j]! /= vectors.length;
    const std = new Float64Array(f);
    for (const v of vectors) {
      for (let j = 0; j < f; j++) {
        const d = v[j]! - mean[j]!;
        std[j]! += d * d;
      }
    }
    for (let j = 0; j < f; j++) {
      const s = Math.sqrt(std[j]! / vectors.length);
      std[j] = s > 1e-12 && Number.isFinite(s) ? s : 1;
    }
    return new StandardScaler(mean, std);
  }

  /**
   * A scaler read from a file, checked (InvalidMemberError names the bad member under `path`):
   * finite means, finite standard deviations > 0 (a 0 or a null would turn every standardised
   * value into ±Infinity or NaN), `featureCount` of each when given.
   */
  static fromJSON(value: unknown, path = 'scaler', featureCount?: number): StandardScaler {
    const json = JsonObject.at(value, path, 'a scaler { mean, std }');
    const mean = json.numbers('mean', {}, featureCount === undefined ? undefined : { length: featureCount, why: 'one per feature' });
    const std = json.numbers('std', { above: 0 }, { length: mean.length, why: 'one per mean' });
    return new StandardScaler(Float64Array.from(mean), Float64Array.from(std));
  }

  /** A new standardised vector. */
  transform(vector: Float64Array): Float64Array {
    const out = new Float64Array(this.mean.length);
    this.transformInto(vector, out);
    return out;
  }

  /** Standardise into `out` (no allocation; for hot loops). */
  transformInto(vector: Float64Array, out: Float64Array): void {
    const f = this.mean.length;
    if (vector.length !== f) throw new RangeError(`scaler: vector of length ${vector.length}, expected ${f}`);
    for (let j = 0; j < f; j++) out[j] = (vector[j]! - this.mean[j]!) / this.std[j]!;
  }

  toJSON(): ScalerJson {
    return { mean: Array.from(this.mean), std: Array.from(this.std) };
  }
}
