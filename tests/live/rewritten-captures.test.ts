// Captures rewritten under the agent's feet, as an operator's tools do it: dumpcap started again
// on the same file name while no agent ran (the same header bytes, other packets), a file written
// over in place with longer content (cp, editcap, mergecap -w onto the same name), a capture
// deleted by a ring buffer, and journals left by captures deleted while no agent ran.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedEvent, LiveDialog } from '../../agent/src/live/label-feed';
import { LiveAgent } from '../../agent/src/live/live-agent';
import { LiveCapture } from '../../agent/src/live/live-capture';
import { StateJournal, removeOrphanJournals } from '../../agent/src/live/state-journal';
import { UsageModel } from '../../agent/src/pipeline/usage-model';
import { drawNetworkConditions, renderCapture } from '../../agent/src/simulate/render';
import { buildTrafficScript } from '../../agent/src/simulate/usage-script';
import { expectedDialogs, waitFor } from '../support/agent-process';

const ROOT = join(__dirname, '..', '..');
const model = UsageModel.load(join(ROOT, 'models', 'default.json'));
let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'cumma-rewritten-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A simulated chat capture's bytes; every seed gives the same header blocks. */
function simulated(seed: number): Buffer {
  const path = join(dir, `sim-${seed}.pcapng`);
  renderCapture(buildTrafficScript({ plan: { kind: 'usage', usage: 'text' }, app: 'whatsapp', seed, durationS: 60, background: true }), { conditions: drawNetworkConditions(seed), seed, outputPath: path });
  return readFileSync(path);
}

interface Run {
  readonly capture: LiveCapture;
  readonly published: Map<string, LiveDialog>;
  readonly restored: Set<string>;
  /** Ids published as new (not restored), in order. */
  readonly fresh: string[];
  readonly events: string[];
  now: number;
}

function watchFile(path: string, state: string, sidecar = false): Run {
  const run: Run = {
    capture: undefined as unknown as LiveCapture,
    published: new Map(),
    restored: new Set(),
    fresh: [],
    events: [],
    now: 1_000_000,
  };
  (run as { capture: LiveCapture }).capture = new LiveCapture({
    path,
    name: 'cap.pcapng',
    model,
    stateDirectory: state,
    sidecar,
    clock: () => run.now,
    onDialog: (dialog, restored) => {
      run.published.set(dialog.id, dialog);
      if (restored) run.restored.add(dialog.id);
      else if (dialog.status === 'final') run.fresh.push(dialog.id);
    },
    onCaptureEvent: (event, message) => run.events.push(`${event}: ${message}`),
  });
  return run;
}

/** Reads all there is, then lets the wall clock close what is idle. */
function readAll(run: Run): void {
  while (run.capture.poll()) {
    // read on
  }
  run.now += 120_000;
  run.capture.tick();
}

describe('a live capture rewritten', () => {
  it('by dumpcap started again on the same name while no agent ran: the old dialogs do not come back', () => {
    const first = simulated(1);
    const second = simulated(2);
    // The two differ only after the header blocks dumpcap writes first.
    const headerBytes = 84;
    expect(first.subarray(0, headerBytes).equals(second.subarray(0, headerBytes))).toBe(true);
    const path = join(dir, 'restart.pcapng');
    const state = join(dir, 'state-restart');
    // The agent sees the file while it holds only the header blocks, then the packets.
    writeFileSync(path, first.subarray(0, headerBytes));
    const before = watchFile(path, state);
    readAll(before);
    writeFileSync(path, first, { flag: 'r+' });
    readAll(before);
    before.capture.close();
    expect(before.published.size).toBeGreaterThan(3);
    // Agent stopped; dumpcap truncates the same file (same inode) and writes another capture.
    const inode = statSync(path).ino;
    writeFileSync(path, second);
    expect(statSync(path).ino).toBe(inode);
    const after = watchFile(path, state);
    readAll(after);
    after.capture.close();
    expect(after.restored.size).toBe(0);
    const expected = expectedDialogs(path, 'cap.pcapng');
    expect([...after.published.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const id of before.published.keys()) expect(after.published.has(id)).toBe(false);
  });

  it('in place with longer content: read again from the start, as a restart, with no error', () => {
    const short = simulated(3);
    const long = simulated(4);
    expect(long.length).toBeGreaterThan(short.length);
    const path = join(dir, 'overwritten.pcapng');
    writeFileSync(path, short);
    const run = watchFile(path, join(dir, 'state-overwritten'));
    readAll(run);
    const inode = statSync(path).ino;
    writeFileSync(path, long);
    expect(statSync(path).ino).toBe(inode);
    run.published.clear();
    readAll(run);
    run.capture.close();
    expect(run.events.filter((event) => event.startsWith('error'))).toEqual([]);
    expect(run.events).toContain(`restarted: ${path}: rewritten in place (its first bytes changed); reading it again from the start`);
    const expected = expectedDialogs(path, 'cap.pcapng');
    expect([...run.published.keys()].sort()).toEqual([...expected.keys()].sort());
  });

  it('in place with content of the same size: read again from the start', () => {
    const first = simulated(3);
    // Another capture cut to the same length: a same-size `cp` over the watched file.
    const second = simulated(5).subarray(0, first.length);
    expect(second.equals(first)).toBe(false);
    const path = join(dir, 'same-size.pcapng');
    writeFileSync(path, first);
    const run = watchFile(path, join(dir, 'state-same-size'));
    readAll(run);
    // A later modification time, as any write gives (the test runs faster than its resolution).
    writeFileSync(path, second);
    const later = new Date(statSync(path).mtimeMs + 2000);
    utimesSync(path, later, later);
    expect(statSync(path).size).toBe(first.length);
    readAll(run);
    run.capture.close();
    expect(run.events).toContain(`restarted: ${path}: rewritten in place (its first bytes changed); reading it again from the start`);
  });

  it('in place after it failed (text, then a capture): read again, no longer in error', () => {
    const path = join(dir, 'was-junk.pcapng');
    writeFileSync(path, 'this is not a capture, just some notes\n');
    const run = watchFile(path, join(dir, 'state-junk'));
    readAll(run);
    expect(run.capture.info().state).toBe('error');
    writeFileSync(path, simulated(5));
    readAll(run);
    run.capture.close();
    expect(run.capture.info().state).not.toBe('error');
    expect(run.capture.info().sizeBytes).toBe(statSync(path).size);
    expect(run.published.size).toBe(expectedDialogs(path, 'cap.pcapng').size);
  });
});

describe('a deleted capture', () => {
  it('takes the sidecar the agent kept for it along, but not one someone rewrote since, nor that of a capture compressed in place', () => {
    for (const [name, keep] of [
      ['ring_00001.pcapng', false],
      ['edited.pcapng', true],
      ['compressed.pcapng', true],
    ] as const) {
      const path = join(dir, name);
      writeFileSync(path, simulated(6));
      const run = watchFile(path, join(dir, `state-${name}`), true);
      readAll(run);
      run.now += 10_000;
      run.capture.tick();
      const sidecar = `${path}.cumma.tsv`;
      expect(existsSync(sidecar)).toBe(true);
      if (name === 'edited.pcapng') writeFileSync(sidecar, `${readFileSync(sidecar, 'utf8')}# the analyst's notes\n`);
      // gzip writes X.gz, then deletes X: Wireshark opens X.gz with X's sidecar.
      if (name === 'compressed.pcapng') writeFileSync(`${path}.gz`, gzipSync(readFileSync(path)));
      unlinkSync(path);
      run.capture.removed();
      expect(existsSync(sidecar), name).toBe(keep);
    }
  });

  it('deleted while no agent ran: its journal is removed when an agent watches its folder again', () => {
    const state = join(dir, 'state-orphans');
    const folder = join(dir, 'orphans');
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(folder);
    mkdirSync(elsewhere);
    const kept = join(folder, 'kept.pcapng');
    const gone = join(folder, 'gone.pcapng');
    // Another folder's capture, away for now (an unmounted share): not this agent's to judge.
    const away = join(elsewhere, 'away.pcapng');
    for (const path of [kept, gone, away]) {
      writeFileSync(path, simulated(7));
      const run = watchFile(path, state);
      readAll(run);
      run.capture.close();
    }
    expect(readdirSync(state).filter((name) => name.endsWith('.journal'))).toHaveLength(3);
    unlinkSync(gone);
    unlinkSync(away);
    expect(removeOrphanJournals(state, folder)).toBe(1);
    expect(existsSync(StateJournal.for(state, kept).path)).toBe(true);
    expect(existsSync(StateJournal.for(state, gone).path)).toBe(false);
    expect(existsSync(StateJournal.for(state, away).path)).toBe(true);
  });
});

describe('the agent, when a capture is read again from the start', () => {
  it('tells clients it restarted, so they drop the dialogs they hold for it', async () => {
    const folder = join(dir, 'watched');
    const state = join(dir, 'state-agent');
    rmSync(folder, { recursive: true, force: true });
    mkdirSync(folder);
    const path = join(folder, 'cap.pcapng');
    writeFileSync(path, simulated(8));
    const agent = new LiveAgent({ model, stateDirectory: state, sidecars: false, pollIntervalMs: 50 });
    const events: FeedEvent[] = [];
    agent.subscribe((event) => events.push(event));
    try {
      await agent.watchFolder(folder);
      await waitFor(() => agent.captures()[0]?.bytesRead === statSync(path).size, 10_000, 'the first read');
      writeFileSync(path, simulated(9));
      await waitFor(() => events.some((event) => event.kind === 'capture' && event.event === 'restarted'), 10_000, 'the restart');
      const captureEvents = events.filter((event) => event.kind === 'capture').map((event) => (event.kind === 'capture' ? event.event : ''));
      expect(captureEvents).not.toContain('removed');
      const restart = events.find((event) => event.kind === 'capture' && event.event === 'restarted');
      expect(restart?.kind === 'capture' && restart.message).toMatch(/cap\.pcapng: (rewritten in place \(its first bytes changed\)|truncated to \d+ bytes \(had read \d+\)); reading it again from the start/);
    } finally {
      await agent.close();
    }
  });
});

describe('the agent, when a capture is read whole at once', () => {
  it('tells clients it is idle with its dialogs, however quickly the reading ended', async () => {
    const folder = join(dir, 'watched-fast');
    rmSync(folder, { recursive: true, force: true });
    mkdirSync(folder);
    const agent = new LiveAgent({ model, stateDirectory: join(dir, 'state-fast'), sidecars: false, pollIntervalMs: 50 });
    const events: FeedEvent[] = [];
    agent.subscribe((event) => events.push(event));
    try {
      await agent.watchFolder(folder);
      const path = join(folder, 'fast.pcapng');
      writeFileSync(path, simulated(11));
      const dialogs = expectedDialogs(path, 'fast.pcapng').size;
      expect(dialogs).toBeGreaterThan(0);
      // The last word clients get about the capture must be what the agent holds: idle, every dialog.
      const lastInfo = () => events.filter((event) => event.kind === 'capture').at(-1);
      await waitFor(() => {
        const last = lastInfo();
        return last?.kind === 'capture' && last.capture.state === 'idle' && last.capture.dialogs === dialogs;
      }, 10_000, 'an event saying the capture is idle with its dialogs');
      expect(events.some((event) => event.kind === 'capture' && event.event === 'added')).toBe(true);
    } finally {
      await agent.close();
    }
  });
});

describe('an empty capture file', () => {
  it('is idle (waiting for bytes), not reading, until it grows', () => {
    const path = join(dir, 'empty.pcap');
    writeFileSync(path, '');
    const run = watchFile(path, join(dir, 'state-empty'));
    readAll(run);
    expect(run.capture.info().state).toBe('idle');
    writeFileSync(path, simulated(10));
    readAll(run);
    run.capture.close();
    expect(run.capture.info().state).toBe('idle');
    expect(run.published.size).toBe(expectedDialogs(path, 'cap.pcapng').size);
  });
});

/**
 * The capture's bytes with EPB number `index` (0-based) stamped `shiftUs` later, and the offset
 * just past that block (little-endian pcapng, as the simulator writes it).
 */
function withPacketShifted(bytes: Buffer, index: number, shiftUs: number): { bytes: Buffer; end: number } {
  const out = Buffer.from(bytes);
  let at = 0;
  let packet = 0;
  while (at < out.length) {
    const type = out.readUInt32LE(at);
    const length = out.readUInt32LE(at + 4);
    if (type === 6 && packet++ === index) {
      const raw = out.readUInt32LE(at + 12) * 2 ** 32 + out.readUInt32LE(at + 16);
      const unitsPerUs = raw > 1e17 ? 1000 : 1; // ns (≈1.7e18 today) or µs (≈1.7e15)
      const shifted = raw + shiftUs * unitsPerUs;
      out.writeUInt32LE(Math.floor(shifted / 2 ** 32), at + 12);
      out.writeUInt32LE(shifted % 2 ** 32, at + 16);
      return { bytes: out, end: at + length };
    }
    at += length;
  }
  throw new Error(`no packet ${index}`);
}

describe('a live capture with a packet stamped far ahead, just before the writer pauses', () => {
  it('publishes a restored dialog again, not as restored, when reading the file again gives it another record', () => {
    const path = join(dir, 'corrected.pcapng');
    const state = join(dir, 'state-corrected');
    writeFileSync(path, simulated(12));
    const first = watchFile(path, state);
    readAll(first);
    first.capture.close();
    // What another model (or a record cut short by a stalled writer) left in the journal: one
    // dialog's final record with another confidence.
    const journal = StateJournal.for(state, path).path;
    const lines = readFileSync(journal, 'utf8').split('\n');
    const at = lines.findIndex((line) => line.startsWith('{"l4"'));
    expect(at).toBeGreaterThan(0);
    const altered = JSON.parse(lines[at]!) as LiveDialog;
    lines[at] = JSON.stringify({ ...altered, confidence: altered.confidence / 2 });
    writeFileSync(journal, lines.join('\n'));
    const second = watchFile(path, state);
    readAll(second);
    second.capture.close();
    // Restored first with the journal's record, then published anew with the file's own.
    expect(second.restored.has(altered.id)).toBe(true);
    expect(second.published.get(altered.id)?.confidence).toBe(altered.confidence);
    expect(second.fresh).toContain(altered.id);
    // Every other dialog only restored: nothing printed twice.
    expect(second.fresh).toEqual([altered.id]);
  });

  it('closes no dialog on the wall clock while the file ends inside a block: a stalled writer gives the labels of the finished file', () => {
    const sample = readFileSync(join(ROOT, 'samples', 'whatsapp-chat.pcapng'));
    const path = join(dir, 'stalled.pcapng');
    // Cut inside a block, as `tcpdump -w` without -U leaves a file between two buffer flushes.
    writeFileSync(path, sample.subarray(0, 300_001));
    const run = watchFile(path, join(dir, 'state-stalled'));
    readAll(run);
    const whileStalled = [...run.published.values()];
    writeFileSync(path, sample);
    readAll(run);
    run.capture.close();
    const expected = expectedDialogs(path, 'cap.pcapng');
    const finals = [...run.published.values()].filter((dialog) => dialog.status === 'final');
    expect(finals.length).toBe(expected.size);
    for (const dialog of finals) expect(dialog).toEqual(expected.get(dialog.id));
    // While it stalled, the dialogs its last packets belong to stayed provisional.
    expect(whileStalled.some((dialog) => dialog.status === 'provisional')).toBe(true);
  });

  it('gives the same dialogs when a restarted agent reads it again', () => {
    const { bytes, end } = withPacketShifted(simulated(11), 150, 100_000_000);
    const path = join(dir, 'stray-live.pcapng');
    const state = join(dir, 'state-stray-live');
    writeFileSync(path, bytes.subarray(0, end));
    const first = watchFile(path, state);
    while (first.capture.poll()) {
      // read what is there
    }
    // The writer pauses for 3 s: the stray is the newest packet, and nothing follows it yet.
    first.now += 3_000;
    first.capture.tick();
    writeFileSync(path, bytes);
    readAll(first);
    first.capture.close();
    const second = watchFile(path, state);
    readAll(second);
    second.capture.close();
    const finals = (run: Run): string[] => [...run.published.values()].filter((d) => d.status === 'final').map((d) => d.id).sort();
    expect(finals(first).length).toBeGreaterThan(3);
    expect(finals(second)).toEqual(finals(first));
    expect(second.capture.dialogs().map((d) => d.id).sort()).toEqual(finals(first));
  });
});
