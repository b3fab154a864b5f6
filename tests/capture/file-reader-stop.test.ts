// readCaptureFile and streamCaptureFile stop between chunks when afterChunk says so (the output's
// reader has gone), quietly: what follows is not read, so not checked either.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCaptureFile, streamCaptureFile } from '../../agent/src/capture/file-reader';

// 1.5 MB: three of readCaptureFile's chunks, two of streamCaptureFile's.
const SAMPLE = join(__dirname, '..', '..', 'samples', 'signal-media.pcapng');

describe('afterChunk', () => {
  it('readCaptureFile reads on while it says true, and stops when it says false', () => {
    let whole = 0;
    const all = readCaptureFile(SAMPLE, () => whole++, { afterChunk: () => true });
    let partial = 0;
    const sequential: boolean[] = [];
    const first = readCaptureFile(SAMPLE, () => partial++, { afterChunk: (isSequential) => (sequential.push(isSequential), false) });
    expect(all.packets).toBe(whole);
    expect(first.packets).toBe(partial);
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(whole);
    expect(first.bytesRead).toBeLessThan(all.bytesRead);
    expect(sequential).toEqual([false]); // a regular file
  });

  it('streamCaptureFile stops too', async () => {
    let whole = 0;
    await streamCaptureFile(SAMPLE, () => whole++);
    let partial = 0;
    const summary = await streamCaptureFile(SAMPLE, () => partial++, { afterChunk: () => false });
    expect(summary.packets).toBe(partial);
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(whole);
  });
});
