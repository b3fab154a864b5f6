// "agent not reachable at URL; retrying in N s" counts down: the countdown the panel and the
// capture editor keep between two connection statuses, and the status the host hands a panel
// that (re)opens mid-wait.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConnectionStatus, describeConnection, statusAfter } from '../../vscode-extension/src/shared/connection';
import { RetryCountdown } from '../../vscode-extension/src/shared/retry-countdown';

const URL = 'ws://127.0.0.1:7345';
const retrying = (retryInMs: number): ConnectionStatus => ({ state: 'retrying', url: URL, detail: 'agent not reachable', retryInMs });

describe('RetryCountdown', () => {
  let texts: string[];
  let status: ConnectionStatus;
  let countdown: RetryCountdown;

  /** What the panel shows: the status as the countdown has it now. */
  const shown = (): string => describeConnection(countdown.current(status));
  const follow = (next: ConnectionStatus): void => {
    status = next;
    countdown.follow(next);
    texts.push(shown());
  };

  beforeEach(() => {
    vi.useFakeTimers();
    texts = [];
    status = { state: 'disconnected', url: URL };
    // Date.now() is faked with the timers: the clock the countdown reads moves with them.
    countdown = new RetryCountdown(() => texts.push(shown()), () => Date.now());
  });

  afterEach(() => {
    countdown.dispose();
    vi.useRealTimers();
  });

  it('ticks down a second at a time until the retry is due', () => {
    follow(retrying(3_500));
    expect(texts).toEqual([`agent not reachable at ${URL}; retrying in 4 s`]);
    vi.advanceTimersByTime(499);
    expect(texts).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(texts.at(-1)).toBe(`agent not reachable at ${URL}; retrying in 3 s`);
    vi.advanceTimersByTime(3_000);
    expect(texts.slice(1)).toEqual([3, 2, 1].map((n) => `agent not reachable at ${URL}; retrying in ${n} s`).concat(`agent not reachable at ${URL}; retrying now…`));
    // Due: nothing left to count, no timer left behind.
    expect(countdown.ticking).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(texts).toHaveLength(5);
  });

  it('stops when the state changes, and a new delay replaces the old one', () => {
    follow(retrying(8_000));
    vi.advanceTimersByTime(2_000);
    expect(texts.at(-1)).toContain('retrying in 6 s');
    follow({ state: 'connecting', url: URL });
    expect(countdown.ticking).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(texts.at(-1)).toBe(`connecting to ${URL}…`);
    follow(retrying(2_000));
    follow(retrying(16_000));
    // One timer, for the latest delay.
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1_000);
    expect(texts.at(-1)).toContain('retrying in 15 s');
  });

  it('leaves nothing running once disposed, whatever status comes after', () => {
    follow(retrying(30_000));
    expect(vi.getTimerCount()).toBe(1);
    countdown.dispose();
    expect(vi.getTimerCount()).toBe(0);
    countdown.follow(retrying(30_000));
    expect(countdown.ticking).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('counts nothing for statuses without a delay', () => {
    follow({ state: 'retrying', url: URL });
    follow({ state: 'unauthorized', url: URL, refusal: 'token' });
    expect(vi.getTimerCount()).toBe(0);
    expect(countdown.remainingMs()).toBeUndefined();
  });
});

describe('statusAfter', () => {
  it('takes the time elapsed off a retry delay, never below zero', () => {
    expect(statusAfter(retrying(16_000), 5_200)).toEqual(retrying(10_800));
    expect(statusAfter(retrying(1_000), 5_000)).toEqual(retrying(0));
    expect(describeConnection(statusAfter(retrying(1_000), 5_000))).toBe(`agent not reachable at ${URL}; retrying now…`);
  });

  it('leaves other statuses as they are', () => {
    const connected: ConnectionStatus = { state: 'connected', url: URL };
    expect(statusAfter(connected, 5_000)).toBe(connected);
    const noDelay: ConnectionStatus = { state: 'retrying', url: URL };
    expect(statusAfter(noDelay, 5_000)).toBe(noDelay);
  });
});
