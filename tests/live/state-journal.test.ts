// The state journal on real files: what a restarted agent gets back of what it had published.
import { appendFileSync, closeSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dialogId } from '../../agent/src/live/dialog-identity';
import { LiveDialog } from '../../agent/src/live/label-feed';
import { StateJournal, identityOf } from '../../agent/src/live/state-journal';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function dialog(capture: string, startUs: number, usage: LiveDialog['usage'] = 'text'): LiveDialog {
  const record = {
    l4: 'tcp' as const,
    client: { ip: '10.0.0.1', port: 40000 },
    server: { ip: '10.0.0.2', port: 443 },
    firstUs: startUs,
    lastUs: startUs + 10,
    packets: { up: 1, down: 1 },
    bytes: { up: 100, down: 200 },
    capture,
    session: 1,
    dialog: 1,
    startUs,
    endUs: startUs + 10,
    usage,
    confidence: 0.9,
    scores: { [usage]: 0.9 },
    status: 'final' as const,
    outlier: false,
    model: 'test@1',
  };
  return { ...record, id: dialogId(capture, record) };
}

/** A capture file and a journal for it; `open` opens the journal as the agent does. */
function setup(): { capture: string; directory: string; open(journal: StateJournal, name?: string): LiveDialog[] } {
  const root = mkdtempSync(join(tmpdir(), 'cumma-journal-'));
  roots.push(root);
  const capture = join(root, 'x.pcapng');
  writeFileSync(capture, Buffer.alloc(5000, 7));
  return {
    capture,
    directory: join(root, 'state'),
    open(journal, name = 'x.pcapng') {
      const fd = openSync(capture, 'r');
      try {
        const stats = fstatSync(fd);
        return journal.open(capture, name, fd, stats.dev, stats.ino, stats.size);
      } finally {
        closeSync(fd);
      }
    },
  };
}

describe('StateJournal', () => {
  it('gives a restarted agent the final records it published, in order, the latest of each', () => {
    const { capture, directory, open } = setup();
    const a = dialog('x.pcapng', 1_000);
    const b = dialog('x.pcapng', 2_000);
    const first = StateJournal.for(directory, capture);
    expect(open(first)).toEqual([]);
    first.record([a, b]);
    const relabelled = { ...a, usage: 'photo' as const };
    first.record([relabelled]);
    // A crash in the middle of the next append: half a line.
    appendFileSync(first.path, JSON.stringify(dialog('x.pcapng', 3_000)).slice(0, 80));

    const second = StateJournal.for(directory, capture);
    expect(open(second)).toEqual([relabelled, b]);
    expect(second.has(a.id)).toBe(true);
    expect(second.has(dialog('x.pcapng', 3_000).id)).toBe(false);
  });

  it('renames the records of a capture whose name changed between runs', () => {
    const { capture, directory, open } = setup();
    const journal = StateJournal.for(directory, capture);
    open(journal);
    journal.record([dialog('x.pcapng', 1_000)]);
    const [restored] = open(StateJournal.for(directory, capture), 'x.pcapng#2');
    expect(restored).toEqual(dialog('x.pcapng#2', 1_000));
  });

  it('still honours the bare ids of a version 1 journal', () => {
    const { capture, directory, open } = setup();
    const journal = StateJournal.for(directory, capture);
    const fd = openSync(capture, 'r');
    const stats = fstatSync(fd);
    const identity = identityOf(fd, stats.dev, stats.ino, stats.size);
    closeSync(fd);
    const old = dialog('x.pcapng', 1_000);
    // A journal left by an earlier run: its folder is there (for() touches no file).
    mkdirSync(directory, { recursive: true });
    writeFileSync(journal.path, `${JSON.stringify({ v: 1, capture, identity })}\n${old.id}\n`);
    expect(open(journal)).toEqual([]);
    expect(journal.has(old.id)).toBe(true);
  });

  it('starts afresh for another file under the same name', () => {
    const { capture, directory, open } = setup();
    const journal = StateJournal.for(directory, capture);
    open(journal);
    journal.record([dialog('x.pcapng', 1_000)]);
    rmSync(capture);
    writeFileSync(capture, Buffer.alloc(5000, 8));
    expect(open(StateJournal.for(directory, capture))).toEqual([]);
    expect(readFileSync(journal.path, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('says once, naming itself, that it cannot be written, and keeps what was published in memory', () => {
    const { capture, directory, open } = setup();
    const said: string[] = [];
    const journal = StateJournal.for(directory, capture, (message) => said.push(message));
    open(journal);
    const a = dialog('x.pcapng', 1_000);
    journal.record([a]);
    // Its path taken by a folder (EISDIR, for root too; a full disk gives ENOSPC the same way).
    rmSync(journal.path);
    mkdirSync(journal.path);
    const b = dialog('x.pcapng', 2_000);
    const c = dialog('x.pcapng', 3_000);
    expect(() => journal.record([b])).not.toThrow();
    expect(() => journal.record([c])).not.toThrow();
    expect(said).toEqual([
      `${capture}: cannot write its state journal ${journal.path}: illegal operation on a directory (EISDIR); the capture is labelled and served on, its journal kept in memory only: an agent restarted on it publishes again the dialogs the journal misses`,
    ]);
    expect([a, b, c].every((d) => journal.has(d.id))).toBe(true);
    // A capture removed takes its journal along, but not a folder that is not the agent's.
    expect(() => journal.remove()).not.toThrow();
    expect(statSync(journal.path).isDirectory()).toBe(true);
    expect(said).toHaveLength(1);
  });

  it('makes its folder when first written, and reports a folder it cannot make instead of throwing', () => {
    const { capture, directory, open } = setup();
    expect(open(StateJournal.for(join(directory, 'a', 'b'), capture))).toEqual([]);
    expect(statSync(join(directory, 'a', 'b')).isDirectory()).toBe(true);
    writeFileSync(directory + '-file', 'x');
    const said: string[] = [];
    const journal = StateJournal.for(join(`${directory}-file`, 'state'), capture, (message) => said.push(message));
    expect(open(journal)).toEqual([]);
    journal.record([dialog('x.pcapng', 1_000)]);
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(new RegExp(`^${capture}: cannot (read|write) its state journal ${journal.path}: not a directory \\(ENOTDIR\\);`));
  });
});
