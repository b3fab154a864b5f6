/** Synthetic, separable training data for the model tests: Gaussian blobs, one per class. */
import { Prng } from '../../agent/src/common/prng';
import { USAGE_CLASSES, type UsageClass } from '../../agent/src/labels';
import type { TrainingSample } from '../../agent/src/model/classifier';

export interface Blobs {
  readonly centers: readonly Float64Array[];
  readonly classes: readonly UsageClass[];
  /** `perClass` fresh samples of every class, interleaved by class, from `seed`. */
  sample(perClass: number, seed: number): TrainingSample[];
}

export function makeBlobs(dims = 40, separation = 1, centerSeed = 11, classes: readonly UsageClass[] = USAGE_CLASSES): Blobs {
  const prng = new Prng(centerSeed);
  const centers = classes.map(() => Float64Array.from({ length: dims }, () => prng.normal() * separation));
  return {
    centers,
    classes,
    sample(perClass, seed) {
      const p = new Prng(seed);
      const out: TrainingSample[] = [];
      for (let i = 0; i < perClass; i++) {
        classes.forEach((label, c) => {
          out.push({ label, features: Float64Array.from(centers[c]!, (m) => m + p.normal()) });
        });
      }
      return out;
    },
  };
}
