// The reading thread's handle on classify's labelling thread, when the labeller cannot work: the
// reason comes back promptly (not after the stall timeout) and names what failed.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabelingThread } from '../../agent/src/cli/labeling-thread';
import { FEATURES } from '../../agent/src/features/feature-schema';
import { DialogRecordMaker, DialogToLabel } from '../../agent/src/pipeline/dialog-labeler';
import { DialogRecord } from '../../agent/src/pipeline/dialog-record';
import { UsageModel } from '../../agent/src/pipeline/usage-model';

const BUNDLE = join(__dirname, '..', '..', 'dist', 'commands', 'classify-labeler.js');
const MODEL = join(__dirname, '..', '..', 'models', 'default.json');

function dialogs(count: number): DialogToLabel[] {
  return Array.from({ length: count }, (_, i) => ({
    flowId: i,
    flow: { l4: 'udp' as const, client: { ip: '10.0.0.1', port: 5000 + i }, server: { ip: '10.0.0.2', port: 53 } },
    session: 1,
    dialog: 1,
    startUs: 1_700_000_000_000_000 + i,
    endUs: 1_700_000_000_000_000 + i,
    packets: { up: 1, down: 1 },
    bytes: { up: 80, down: 96 },
    capture: 'x.pcapng',
    features: new Float64Array(FEATURES.length),
  }));
}

/** Posts batches until the thread reports its failure; the error and how long it took. */
async function failureOf(script: string, modelPath: string): Promise<{ error: unknown; seconds: number }> {
  const thread = LabelingThread.start(script, { modelPath, temporal: 'forward' }, () => {
    throw new Error('no verdicts expected');
  });
  const started = performance.now();
  let error: unknown;
  try {
    for (let batch = 0; batch < 64; batch++) thread.post(dialogs(256), []);
    thread.finish();
  } catch (caught) {
    error = caught;
  } finally {
    await thread.close();
  }
  return { error, seconds: (performance.now() - started) / 1000 };
}

describe('classify labelling thread failures', () => {
  let dir: string;
  beforeAll(() => {
    if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} does not exist: run 'npm run build' first`);
    dir = mkdtempSync(join(tmpdir(), 'cumma-labeling-thread-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a model the labeller cannot read: its error, at once', async () => {
    const { error, seconds } = await failureOf(BUNDLE, join(dir, 'missing.json'));
    // The model's own error, as when it is loaded on the reading thread: no "labelling:" before it.
    expect(String(error)).toMatch(/^Error: cannot read model .*missing\.json.*\[MODEL_MISSING\]$/);
    expect(seconds).toBeLessThan(10);
  });

  it('a bundle that throws while loading: named, with its error, at once', async () => {
    const broken = join(dir, 'broken-labeler.js');
    writeFileSync(broken, "throw new Error('damaged bundle');\n");
    const { error, seconds } = await failureOf(broken, MODEL);
    expect(String(error)).toContain(`cannot load ${broken}: damaged bundle`);
    expect(seconds).toBeLessThan(10);
  });

  it('hands the reading thread the model header (the only copy of the model is the labeller\'s), and a failed load instead', async () => {
    const answers: number[] = [];
    const thread = LabelingThread.start(BUNDLE, { modelPath: MODEL, temporal: 'forward' }, (verdicts) => answers.push(verdicts.length));
    try {
      expect(thread.modelHeader()).toEqual(UsageModel.load(MODEL).header);
      thread.finish();
      // No dialog was posted: the end of input is answered with no verdicts.
      expect(answers).toEqual([0]);
    } finally {
      await thread.close();
    }
    const failing = LabelingThread.start(BUNDLE, { modelPath: join(dir, 'absent.json'), temporal: 'forward' }, () => undefined);
    try {
      expect(() => failing.modelHeader()).toThrow(/^cannot read model .*absent\.json.*\[MODEL_MISSING\]$/);
      // A failure of the model, not of labelling: classify then sums up no result.
      expect(failing.failedOnModel).toBe(true);
    } finally {
      await failing.close();
    }
  });

  it('poll() reports a model that could not be loaded without waiting for a batch; a broken bundle is no model failure', async () => {
    const truncated = join(dir, 'truncated.json');
    writeFileSync(truncated, readFileSync(MODEL, 'utf8').slice(0, 20_000));
    const thread = LabelingThread.start(BUNDLE, { modelPath: truncated, temporal: 'forward' }, () => undefined);
    try {
      // What the reading thread does between chunks until the labeller has answered.
      const started = performance.now();
      let error: unknown;
      while (error === undefined && performance.now() - started < 10_000) {
        try {
          thread.poll();
        } catch (caught) {
          error = caught;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(String(error)).toMatch(/^Error: model .*truncated\.json is not valid JSON: .*\[MODEL_INVALID\]$/);
      expect(thread.failedOnModel).toBe(true);
    } finally {
      await thread.close();
    }
    const broken = join(dir, 'broken-bundle.js');
    writeFileSync(broken, "throw new Error('damaged bundle');\n");
    const unloadable = LabelingThread.start(broken, { modelPath: MODEL, temporal: 'forward' }, () => undefined);
    try {
      expect(() => unloadable.modelHeader()).toThrow(`labelling: cannot load ${broken}: damaged bundle`);
      expect(unloadable.failedOnModel).toBe(false);
    } finally {
      await unloadable.close();
    }
  });

  it('gaps read ahead are checked against the loaded model\'s before any verdict, which comes with the header', async () => {
    const loaded = UsageModel.load(MODEL).header;
    const headers: unknown[] = [];
    const records: DialogRecord[] = [];
    const agreeing = LabelingThread.start(BUNDLE, { modelPath: MODEL, temporal: 'forward' }, (verdicts, dialogOf, header) => {
      headers.push(header);
      records.push(...new DialogRecordMaker(header).recordsOf(verdicts, dialogOf, 'final'));
    });
    try {
      agreeing.expectGaps(loaded.gaps);
      agreeing.post(dialogs(3), []);
      agreeing.finish();
      // One answer to the batch, one to the end of input, each with the model's header.
      expect(headers).toEqual([loaded, loaded]);
      expect(records.map((record) => [record.client.port, record.model])).toEqual([
        [5000, `${loaded.name}@${loaded.version}`],
        [5001, `${loaded.name}@${loaded.version}`],
        [5002, `${loaded.name}@${loaded.version}`],
      ]);
    } finally {
      await agreeing.close();
    }
    // Gaps that disagree (as a file with a repeated member could give) stop the run before any
    // record is made with them.
    const disagreeing = LabelingThread.start(BUNDLE, { modelPath: MODEL, temporal: 'forward' }, () => {
      throw new Error('no verdicts expected');
    });
    try {
      disagreeing.expectGaps({ ...loaded.gaps, dialogGapUs: loaded.gaps.dialogGapUs + 1 });
      expect(() => {
        disagreeing.post(dialogs(3), []);
        disagreeing.finish();
      }).toThrow(/gaps read ahead from the model file .* differ from the loaded model's .*: the file names 'gaps' more than once/);
    } finally {
      await disagreeing.close();
    }
  });

  it('a labeller killed outright (no code left to report it) is noticed by its silent heartbeat, not after the stall timeout', async () => {
    // The real labeller, except that its thread ends as it answers the first batch, without a
    // word, as one that runs out of memory does; process.exit() in a worker ends only that thread.
    const dying = join(dir, 'dying-labeler.js');
    writeFileSync(
      dying,
      [
        "const { workerData } = require('node:worker_threads');",
        'const post = workerData.port.postMessage.bind(workerData.port);',
        "workerData.port.postMessage = (message, transfer) => (message.kind === 'verdicts' ? process.exit(7) : post(message, transfer));",
        `require(${JSON.stringify(BUNDLE)});`,
      ].join('\n'),
    );
    const thread = LabelingThread.start(dying, { modelPath: MODEL, temporal: 'forward' }, () => {
      throw new Error('no verdicts expected');
    }, { silenceMs: 1500 });
    try {
      // The model loads and its header comes: the labeller was alive until the first batch.
      expect(thread.modelHeader().gaps).toEqual(UsageModel.load(MODEL).header.gaps);
      const started = performance.now();
      expect(() => {
        thread.post(dialogs(3), []);
        thread.finish();
      }).toThrow(/labelling thread stopped: no answer and no sign of life for 1\.5 s/);
      const seconds = (performance.now() - started) / 1000;
      expect(seconds).toBeGreaterThanOrEqual(1.5);
      expect(seconds).toBeLessThan(10);
    } finally {
      await thread.close();
    }
  });

  it('a labeller that is busy but alive is waited for: the heartbeat keeps moving', async () => {
    // Each answer leaves 2.5 s late here, longer than the silence allowed (1 s), while the
    // labeller's event loop runs; the answers still come.
    const slow = join(dir, 'slow-labeler.js');
    writeFileSync(
      slow,
      [
        "const { workerData } = require('node:worker_threads');",
        'const post = workerData.port.postMessage.bind(workerData.port);',
        "workerData.port.postMessage = (message, transfer) => message.kind === 'verdicts' ? setTimeout(() => { post(message, transfer); Atomics.add(workerData.counters, 0, 1); Atomics.notify(workerData.counters, 0); }, 2500) : post(message, transfer);",
        `require(${JSON.stringify(BUNDLE)});`,
      ].join('\n'),
    );
    const records: DialogRecord[] = [];
    const thread = LabelingThread.start(
      slow,
      { modelPath: MODEL, temporal: 'forward' },
      (verdicts, dialogOf, header) => records.push(...new DialogRecordMaker(header).recordsOf(verdicts, dialogOf, 'final')),
      { silenceMs: 1000 },
    );
    try {
      const started = performance.now();
      thread.post(dialogs(3), []);
      thread.finish();
      expect(records.map((record) => record.client.port)).toEqual([5000, 5001, 5002]);
      expect((performance.now() - started) / 1000).toBeGreaterThanOrEqual(2.5);
    } finally {
      await thread.close();
    }
  });

  it('a bundle that is not there: named, at once', async () => {
    const missing = join(dir, 'no-such-labeler.js');
    const { error, seconds } = await failureOf(missing, MODEL);
    expect(String(error)).toContain(`cannot load ${missing}`);
    expect(seconds).toBeLessThan(10);
  });
});
