// Headless Chromium for the panel and editor tests (Debian's chromium with playwright-core, as
// ../shared/TOOLING.md says). Skips loudly when chromium is missing, fails under CUMMA_REQUIRE_TOOLS=1.
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { toolsRequiredByEnv } from '../support/tools';

export const CHROMIUM = process.env['CUMMA_CHROMIUM'] ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function chromiumRequirement(): { skip: boolean; assertAvailable(): void } {
  const present = existsSync(CHROMIUM);
  const skip = !present && !toolsRequiredByEnv();
  if (skip) console.warn(`SKIPPED: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CUMMA_REQUIRE_TOOLS=1 to fail instead)`);
  return {
    skip,
    assertAvailable() {
      if (!present) throw new Error(`missing required tool: chromium at ${CHROMIUM} (CUMMA_REQUIRE_TOOLS=1)`);
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  // launch() (not launchPersistentContext) runs on a fresh temporary profile each time.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}
