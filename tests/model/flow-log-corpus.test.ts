import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureDialogs } from '../../agent/src/pipeline/capture-dialogs';
import { drawNetworkConditions, renderCapture } from '../../agent/src/simulate/render';
import { buildTrafficScript } from '../../agent/src/simulate/usage-script';
import { loadFlowLogs, readFlowLogs, saveFlowLogs, segmentFlowLogs } from '../../scripts/lib/flow-log-corpus';

const dir = mkdtempSync(join(tmpdir(), 'cumma-flowlog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('flow logs', () => {
  const path = join(dir, 'mix.pcapng');
  renderCapture(buildTrafficScript({ plan: { kind: 'scenario' }, app: 'telegram', seed: 5, durationS: 200, background: true }), {
    conditions: drawNetworkConditions(5),
    seed: 5,
    outputPath: path,
  });

  it.each([
    [5_000_000, 60_000_000],
    [2_000_000, 20_000_000],
  ])('segment into the dialogs captureDialogs gives (dialog gap %i µs)', (dialogGapUs, sessionGapUs) => {
    const gaps = { dialogGapUs, sessionGapUs };
    const expected = captureDialogs(path, { gaps });
    const actual = segmentFlowLogs(readFlowLogs(path), gaps);
    const key = (d: { flowId: number; dialog: number }) => d.flowId * 1e6 + d.dialog;
    expected.sort((a, b) => key(a) - key(b));
    actual.sort((a, b) => key(a) - key(b));
    expect(actual.length).toBe(expected.length);
    expect(actual.length).toBeGreaterThan(10);
    actual.forEach((dialog, i) => {
      const reference = expected[i]!;
      expect({ ...dialog, features: Array.from(dialog.features) }).toEqual({ ...reference, features: Array.from(reference.features) });
    });
  });

  it('round-trip through the cache file', () => {
    const flows = readFlowLogs(path);
    saveFlowLogs(join(dir, 'flows.bin'), flows);
    const loaded = loadFlowLogs(join(dir, 'flows.bin'));
    expect(loaded.length).toBe(flows.length);
    loaded.forEach((flow, i) => {
      expect(flow.flow).toEqual(flows[i]!.flow);
      expect(Array.from(flow.times)).toEqual(Array.from(flows[i]!.times));
      expect(Array.from(flow.lengths)).toEqual(Array.from(flows[i]!.lengths));
      expect(Array.from(flow.up)).toEqual(Array.from(flows[i]!.up));
      expect(Array.from(flow.labels)).toEqual(Array.from(flows[i]!.labels));
    });
  });
});
