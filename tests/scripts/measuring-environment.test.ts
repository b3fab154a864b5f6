import { describe, expect, it } from 'vitest';
import { measuringEnvironment, nodeStartSeconds } from '../../scripts/lib/measure';

describe('the environment the benchmark measures commands in', () => {
  it('leaves NODE_EXTRA_CA_CERTS out, says so, and keeps everything else', () => {
    const shell = { PATH: '/usr/bin', NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt', CUMMA_LABEL_THREAD: '0' };
    const { env, removed } = measuringEnvironment(shell);
    expect(removed).toEqual(['NODE_EXTRA_CA_CERTS']);
    expect(env).toEqual({ PATH: '/usr/bin', CUMMA_LABEL_THREAD: '0' });
    // The shell's own environment is not touched: the "as this shell runs it" row uses it.
    expect(shell.NODE_EXTRA_CA_CERTS).toBe('/etc/ssl/certs/ca-certificates.crt');
  });

  it('removes nothing from an environment without it', () => {
    const { env, removed } = measuringEnvironment({ PATH: '/usr/bin' });
    expect(removed).toEqual([]);
    expect(env).toEqual({ PATH: '/usr/bin' });
  });

  it("times Node.js's own start", () => {
    const seconds = nodeStartSeconds(measuringEnvironment().env, 1);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(10);
  });
});
