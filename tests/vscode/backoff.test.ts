import { describe, expect, it } from 'vitest';
import { Backoff } from '../../vscode-extension/src/shared/backoff';

describe('Backoff', () => {
  it('doubles from the initial delay up to the cap, and starts over after a reset', () => {
    const backoff = new Backoff({ initialMs: 500, maxMs: 4000, jitter: 0 });
    expect([1, 2, 3, 4, 5, 6].map(() => backoff.next())).toEqual([500, 1000, 2000, 4000, 4000, 4000]);
    expect(backoff.attempts).toBe(6);
    backoff.reset();
    expect(backoff.next()).toBe(500);
  });

  it('spreads delays downwards by the jitter fraction', () => {
    expect(new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 1 }).next()).toBe(800);
    expect(new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 0 }).next()).toBe(1000);
  });
});
