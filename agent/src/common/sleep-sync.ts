/**
 * Blocks the thread for `ms` milliseconds, for synchronous loops that must wait out EAGAIN (a
 * non-blocking pipe that is empty or full) without spinning.
 */
const waitCell = new Int32Array(new SharedArrayBuffer(4));

export function sleepSync(ms: number): void {
  Atomics.wait(waitCell, 0, 0, ms);
}
