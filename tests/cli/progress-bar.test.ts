import { describe, expect, it } from 'vitest';
import { ProgressBar, renderProgress } from '../../agent/src/cli/progress-bar';

describe('progress bar', () => {
  it('renders the fraction done as a bar and a percentage', () => {
    expect(renderProgress('classifying', 0, 100e6)).toBe(`classifying [${'.'.repeat(30)}]   0 % of 100 MB`);
    expect(renderProgress('classifying', 50e6, 100e6)).toBe(`classifying [${'#'.repeat(15)}${'.'.repeat(15)}]  50 % of 100 MB`);
    expect(renderProgress('classifying', 120e6, 100e6)).toBe(`classifying [${'#'.repeat(30)}] 100 % of 100 MB`);
  });

  it('redraws at most once per percent and clears its line at the end', () => {
    const writes: string[] = [];
    const stream = { write: (text: string) => writes.push(text) } as unknown as NodeJS.WritableStream;
    const bar = new ProgressBar(stream, 'x', 1000);
    for (let done = 0; done <= 1000; done += 1) bar.update(done);
    expect(writes).toHaveLength(101);
    bar.clear();
    expect(writes[writes.length - 1]).toMatch(/^\r +\r$/);
  });
});
