// Guard for tests that need external programs (tshark, text2pcap, ...). The suite must run on a
// machine without Wireshark, so such tests skip, loudly; CI sets CUMMA_REQUIRE_TOOLS=1 so that a
// missing tool fails instead of silently turning the check off.
//
//   const tools = requireTools('tshark', 'text2pcap');
//   describe.skipIf(tools.skip)('…', () => {
//     beforeAll(() => tools.assertAvailable());
//     …
//   });

import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface ToolRequirement {
  missing: string[];
  /** True when tools are missing and not required: pass to it.skipIf / describe.skipIf. */
  skip: boolean;
  /** Throws naming the missing tools; call it in beforeAll so a required tool fails the test. */
  assertAvailable(): void;
}

export function toolsRequiredByEnv(): boolean {
  return process.env.CUMMA_REQUIRE_TOOLS === '1';
}

/** Looks an executable up on PATH without running it (running tshark costs ~0.2 s). */
export function findOnPath(tool: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export function requireTools(...tools: string[]): ToolRequirement {
  const missing = tools.filter((t) => findOnPath(t) === undefined);
  const required = toolsRequiredByEnv();
  const skip = missing.length > 0 && !required;
  if (skip) {
    console.warn(`SKIPPED: missing ${missing.join(', ')} (install Wireshark's tools, or set CUMMA_REQUIRE_TOOLS=1 to fail instead)`);
  }
  return {
    missing,
    skip,
    assertAvailable() {
      if (missing.length > 0) {
        throw new Error(`missing required tool(s): ${missing.join(', ')} (CUMMA_REQUIRE_TOOLS=1)`);
      }
    },
  };
}

/** Single-tool form, e.g. requireTool('tshark'). */
export function requireTool(tool: string): ToolRequirement {
  return requireTools(tool);
}
