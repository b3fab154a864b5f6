// The warning for a capture that stopped growing inside a block stays in capture.warning, and is
// served, for as long as the file stays so (hours, for a file cut short): it names the time the
// file was last seen growing, not a duration that is stale a second after it was written.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LiveCapture } from '../../agent/src/live/live-capture';
import { UsageModel } from '../../agent/src/pipeline/usage-model';

const ROOT = join(__dirname, '..', '..');
let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'cumma-incomplete-tail-unit-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('words the incomplete-tail warning with the time the file was last seen growing, which stays true for hours', () => {
  const path = join(dir, 'cut.pcapng');
  writeFileSync(path, readFileSync(join(ROOT, 'samples', 'telegram-calls.pcapng')).subarray(0, 100_000));
  let now = Date.parse('2024-05-01T12:00:00.250Z');
  const events: Array<[string, string]> = [];
  const capture = new LiveCapture({
    path,
    name: 'cut.pcapng',
    model: UsageModel.load(join(ROOT, 'models', 'default.json')),
    stateDirectory: join(dir, 'state'),
    sidecar: false,
    clock: () => now,
    onDialog: () => undefined,
    onCaptureEvent: (event, message) => events.push([event, message]),
  });
  while (capture.poll()) {
    // read all there is
  }
  now += 4_999;
  capture.tick();
  expect(capture.info().warning).toBeUndefined();
  now += 1;
  capture.tick();
  const warning = `${path}: byte offset 99980: input ends inside a block: 20 of 248 bytes present [CAPTURE_TRUNCATED]; the file has not grown since 2024-05-01T12:00:00.250Z: waiting for the rest (a writer still busy, or a file cut short there)`;
  expect(events).toEqual([['updated', warning]]);
  expect(capture.info().warning).toBe(warning);
  // Three hours on, what is served still holds.
  now += 3 * 3600_000;
  capture.tick();
  expect(capture.info().warning).toBe(warning);
  expect(events).toHaveLength(1);
  capture.close();
});

// A state journal that failed is the capture's warning for good (a client connecting later must
// learn it); a file that stops inside a block says more about the labels served now, so its
// warning comes first while it holds, and the journal's shows again once the file grows.
it("puts the incomplete-tail warning before a failed journal's, which shows again once the file grows", () => {
  const path = join(dir, 'journal-less.pcapng');
  const whole = readFileSync(join(ROOT, 'samples', 'telegram-calls.pcapng'));
  writeFileSync(path, whole.subarray(0, 100_000));
  // Where the journals should go, a file: the journal cannot be made.
  const state = join(dir, 'state-file');
  writeFileSync(state, 'in the way');
  let now = Date.parse('2024-05-01T12:00:00.250Z');
  const events: Array<[string, string]> = [];
  const capture = new LiveCapture({
    path,
    name: 'journal-less.pcapng',
    model: UsageModel.load(join(ROOT, 'models', 'default.json')),
    stateDirectory: state,
    sidecar: false,
    clock: () => now,
    onDialog: () => undefined,
    onCaptureEvent: (event, message) => events.push([event, message]),
  });
  while (capture.poll()) {
    // read all there is
  }
  expect(events).toHaveLength(1);
  const [event, journalFailure] = events[0]!;
  expect(event).toBe('updated');
  expect(journalFailure).toMatch(new RegExp(`^${path}: cannot read its state journal ${state}/[0-9a-f]{24}\\.journal: not a directory \\(ENOTDIR\\); `));
  expect(capture.info().warning).toBe(journalFailure);

  now += 5_000;
  capture.tick();
  const tail = `${path}: byte offset 99980: input ends inside a block: 20 of 248 bytes present [CAPTURE_TRUNCATED]; the file has not grown since 2024-05-01T12:00:00.250Z: waiting for the rest (a writer still busy, or a file cut short there)`;
  expect(events.slice(1)).toEqual([['updated', tail]]);
  expect(capture.info().warning).toBe(tail);

  writeFileSync(path, whole);
  while (capture.poll()) {
    // read the rest
  }
  expect(events.slice(2)).toEqual([['updated', `${path}: grew again after waiting at byte offset 99980; reading on`]]);
  expect(capture.info().warning).toBe(journalFailure);
  expect(capture.info().state).not.toBe('error');
  capture.close();
});
