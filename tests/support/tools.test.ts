import { afterEach, describe, expect, it, vi } from 'vitest';
import { requireTools } from './tools';

describe('requireTools', () => {
  const saved = process.env.CUMMA_REQUIRE_TOOLS;
  afterEach(() => {
    if (saved === undefined) delete process.env.CUMMA_REQUIRE_TOOLS;
    else process.env.CUMMA_REQUIRE_TOOLS = saved;
    vi.restoreAllMocks();
  });

  it('skips, with a warning naming the tool, when a tool is missing', () => {
    delete process.env.CUMMA_REQUIRE_TOOLS;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const tools = requireTools('node', 'no-such-tool-cumma');
    expect(tools).toMatchObject({ skip: true, missing: ['no-such-tool-cumma'] });
    expect(warn.mock.calls[0]?.[0]).toContain('no-such-tool-cumma');
  });

  it('fails instead of skipping when CUMMA_REQUIRE_TOOLS=1', () => {
    process.env.CUMMA_REQUIRE_TOOLS = '1';
    const tools = requireTools('no-such-tool-cumma');
    expect(tools.skip).toBe(false);
    expect(() => tools.assertAvailable()).toThrow(/missing required tool\(s\): no-such-tool-cumma/);
  });

  it('neither skips nor fails when every tool is on PATH', () => {
    const tools = requireTools('node');
    expect(tools.skip).toBe(false);
    expect(() => tools.assertAvailable()).not.toThrow();
  });
});
