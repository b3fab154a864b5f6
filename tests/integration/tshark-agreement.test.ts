// cumma's flow accounting (`node dist/cumma.js flows FILE --format jsonl`) against the tshark
// reference, per unordered 5-tuple, on fixture captures written into a temp dir by Wireshark's
// own tools (catalogue: tests/support/flow-fixtures.ts). Needs dist/ built (`npm test` does it).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertCliBuilt, cummaAggregate } from '../../scripts/lib/cumma-cli';
import {
  compareAggregates,
  describeTotals,
  tsharkReference,
  type CummaAggregate,
  type ReferenceAggregate,
} from '../../scripts/lib/tshark-flows';
import { FIXTURES } from '../support/flow-fixtures';
import { requireTools } from '../support/tools';

const REPO_ROOT = resolve(__dirname, '../..');
// CUMMA_CLI points the test at another build of the CLI (e.g. to bisect); default: this repo's.
const CLI = process.env.CUMMA_CLI ?? join(REPO_ROOT, 'dist', 'cumma.js');

// ---------------------------------------------------------------------------------------------

/** Every difference as one readable line, so a failing expect shows what and where. */
function differences(reference: ReferenceAggregate, cumma: CummaAggregate): string[] {
  const c = compareAggregates(reference, cumma);
  return [
    ...c.disagreeing.map((d) => `differs ${d.key}: ${d.details.join('; ')} (tshark frames ${d.reference.frames.join(',')})`),
    ...c.missing.map((t) => `missing in cumma: ${describeTotals(t)}`),
    ...c.extra.map((t) => `only in cumma: ${describeTotals(t)}`),
    ...cumma.problems.map((p) => `contract: ${p}`),
  ];
}

const tools = requireTools('tshark', 'text2pcap', 'editcap', 'mergecap');

describe.skipIf(tools.skip)('cumma flows agrees with tshark per 5-tuple', () => {
  const files = new Map<string, string>();
  let dir = '';

  beforeAll(() => {
    tools.assertAvailable();
    assertCliBuilt(CLI);
    dir = mkdtempSync(join(tmpdir(), 'cumma-tshark-'));
    for (const f of FIXTURES) files.set(f.name, f.build(dir));
  }, 30_000);

  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it.each(FIXTURES.map((f) => [f.name, f] as const))('%s', async (_name, fixture) => {
    const file = files.get(fixture.name);
    if (!file) throw new Error(`fixture ${fixture.name} was not built`);
    const [reference, cumma] = await Promise.all([tsharkReference(file), cummaAggregate(CLI, file)]);
    expect(reference.tuples.size, 'tuples found by the tshark reference').toBe(fixture.tuples);
    expect(reference.skipped.size, 'tunnel tuples skipped by the reference').toBe(fixture.skipped ?? 0);
    if (fixture.fragments) {
      const { fragmentsAttributed: attributed, fragmentsUnattributed: unattributed } = reference.stats;
      expect({ attributed, unattributed }, 'later fragments in the reference').toEqual(fixture.fragments);
    }
    expect(differences(reference, cumma)).toEqual([]);
  }, 20_000);
});
