import { describe, expect, it } from 'vitest';
import { CONDITION_RANGES, drawNetworkConditions, NetworkConditions, validateNetworkConditions } from '../../../agent/src/simulate/render';

describe('drawNetworkConditions', () => {
  const drawn = Array.from({ length: 2000 }, (_, seed) => drawNetworkConditions(seed));

  it('stays inside the documented mobile-network ranges, with whole µs and bit/s', () => {
    for (const c of drawn) {
      expect(() => validateNetworkConditions(c)).not.toThrow();
      expect(Number.isInteger(c.rttBaseUs) && Number.isInteger(c.downlinkBitsPerSecond)).toBe(true);
    }
  });

  it('spreads over the ranges: both ends of each are reached, a third of networks lose nothing', () => {
    const span = (key: keyof NetworkConditions): [number, number] => [Math.min(...drawn.map((c) => c[key])), Math.max(...drawn.map((c) => c[key]))];
    for (const key of ['rttBaseUs', 'jitterUs', 'downlinkBitsPerSecond', 'uplinkBitsPerSecond'] as const) {
      const [low, high] = span(key);
      const { min, max } = CONDITION_RANGES[key];
      // Log-uniform: the lowest and highest tenth of the log range are both hit.
      expect(low, key).toBeLessThan(min * (max / min) ** 0.1);
      expect(high, key).toBeGreaterThan(max / (max / min) ** 0.1);
    }
    const lossless = drawn.filter((c) => c.lossRate === 0).length / drawn.length;
    expect(lossless).toBeGreaterThan(0.28);
    expect(lossless).toBeLessThan(0.39);
    expect(new Set(drawn.map((c) => c.mss))).toEqual(new Set([1360, 1380, 1400, 1420, 1440, 1460]));
  });

  it('is a function of the seed', () => {
    expect(drawNetworkConditions(7)).toEqual(drawNetworkConditions(7));
    expect(drawNetworkConditions(7)).not.toEqual(drawNetworkConditions(8));
  });
});

describe('validateNetworkConditions', () => {
  const good = drawNetworkConditions(1);

  it('names the field, the value and the accepted range', () => {
    expect(() => validateNetworkConditions({ ...good, rttBaseUs: 5_000 })).toThrow('network condition rttBaseUs must be an integer in 20000..200000 µs, got 5000');
    expect(() => validateNetworkConditions({ ...good, lossRate: -0.1 })).toThrow('network condition lossRate must be a number in 0..0.02, got -0.1');
    expect(() => validateNetworkConditions({ ...good, mss: 1460.5 })).toThrow(/mss must be an integer in 1360..1460 bytes/);
    expect(() => validateNetworkConditions({ ...good, uplinkBitsPerSecond: Number.NaN })).toThrow(/uplinkBitsPerSecond .* got NaN/);
  });
});
