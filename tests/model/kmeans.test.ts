import { describe, expect, it } from 'vitest';
import { Prng } from '../../agent/src/common/prng';
import { kMeans } from '../../agent/src/model/kmeans';

describe('k-means', () => {
  it('finds the centres of three well-separated clusters', () => {
    const prng = new Prng(5);
    const truth = [
      [0, 0],
      [10, 10],
      [-10, 5],
    ];
    const points = new Float64Array(300 * 2);
    for (let i = 0; i < 300; i++) {
      const centre = truth[i % 3]!;
      points[i * 2] = centre[0]! + prng.normal() * 0.3;
      points[i * 2 + 1] = centre[1]! + prng.normal() * 0.3;
    }
    const centres = kMeans(points, 2, 3, new Prng(1));
    const found = [0, 1, 2].map((c) => [centres[c * 2]!, centres[c * 2 + 1]!]).sort((a, b) => a[0]! - b[0]!);
    const expected = [...truth].sort((a, b) => a[0]! - b[0]!);
    found.forEach((centre, index) => {
      expect(centre[0]).toBeCloseTo(expected[index]![0]!, 0);
      expect(centre[1]).toBeCloseTo(expected[index]![1]!, 0);
    });
  });

  it('returns the points themselves when there are no more than k', () => {
    const points = Float64Array.of(1, 2, 3, 4);
    expect([...kMeans(points, 2, 5, new Prng(1))]).toEqual([1, 2, 3, 4]);
  });

  it('is deterministic for a seed', () => {
    const prng = new Prng(9);
    const points = Float64Array.from({ length: 400 }, () => prng.normal());
    expect([...kMeans(points, 4, 6, new Prng(3))]).toEqual([...kMeans(points, 4, 6, new Prng(3))]);
  });
});
