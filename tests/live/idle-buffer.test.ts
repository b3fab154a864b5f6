// A capture that stops growing gives its 1 MiB read buffer back (500 small captures dropped at
// once held ≈ 190 MB of them), keeping any unfinished block, and reading resumes exactly where
// it was when the file grows again.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ByteWindow } from '../../agent/src/capture/byte-window';
import { LiveDialog } from '../../agent/src/live/label-feed';
import { LiveCapture } from '../../agent/src/live/live-capture';
import { UsageModel } from '../../agent/src/pipeline/usage-model';
import { expectedDialogs } from '../support/agent-process';

const ROOT = join(__dirname, '..', '..');
const SAMPLE = join(ROOT, 'samples', 'whatsapp-chat.pcapng');
let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'cumma-idle-buffer-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('a byte window gives its buffer back keeping the unread bytes and their offsets', () => {
  const window = new ByteWindow(1000);
  const at = window.reserve(10);
  window.bytes.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], at);
  window.commit(10);
  window.consume(6);
  expect(window.release()).toBe((1 << 20) - 4096);
  expect(window.bytes.length).toBe(4096);
  expect(window.offset).toBe(1006);
  expect(Array.from(window.bytes.subarray(window.start, window.end))).toEqual([7, 8, 9, 10]);
  expect(window.release()).toBe(0);
  // Growing again works as before.
  const next = window.reserve(1 << 20);
  expect(window.bytes.length).toBeGreaterThanOrEqual((1 << 20) + 4);
  window.bytes[next] = 11;
  window.commit(1);
  expect(window.available).toBe(5);
});

it('a live capture releases its buffer 5 s after it stopped growing, and reads on exactly when it grows', () => {
  const bytes = readFileSync(SAMPLE);
  const path = join(dir, 'chat.pcapng');
  // Cut inside a block, so an unfinished block waits in the released buffer.
  const cut = Math.floor(bytes.length / 2) + 3;
  writeFileSync(path, bytes.subarray(0, cut));
  let now = 1_000_000;
  const dialogs = new Map<string, LiveDialog>();
  const capture = new LiveCapture({
    path,
    name: 'chat.pcapng',
    model: UsageModel.load(join(ROOT, 'models', 'default.json')),
    stateDirectory: join(dir, 'state'),
    sidecar: false,
    // No wall-clock closing while the file pauses: that would end a dialog the appended packets
    // continue (a known live-only split, README), and this test is about the buffer.
    quietAfterMs: Number.MAX_SAFE_INTEGER,
    clock: () => now,
    onDialog: (dialog) => dialogs.set(dialog.id, dialog),
    onCaptureEvent: (event, message) => {
      if (event === 'error') throw new Error(message);
    },
  });
  while (capture.poll()) {
    // read all there is
  }
  expect(capture.readBufferBytes).toBe(1 << 20);
  now += 1_000;
  capture.tick();
  expect(capture.readBufferBytes).toBe(1 << 20);
  now += 5_000;
  capture.tick();
  expect(capture.readBufferBytes).toBeLessThanOrEqual(4096 * 64);
  expect(capture.readBufferBytes).toBeLessThan(1 << 20);

  appendFileSync(path, bytes.subarray(cut));
  while (capture.poll()) {
    // read the rest
  }
  now += 100_000;
  capture.tick();
  capture.close();
  // Every dialog of the file was published, and each final one exactly as classify prints it;
  // the last ones stay open (provisional) without the wall clock.
  const expected = expectedDialogs(path, 'chat.pcapng');
  expect([...dialogs.keys()].sort()).toEqual([...expected.keys()].sort());
  const finals = [...dialogs.values()].filter((dialog) => dialog.status === 'final');
  expect(finals.length).toBeGreaterThan(expected.size / 2);
  for (const dialog of finals) expect(dialog).toEqual(expected.get(dialog.id));
});
