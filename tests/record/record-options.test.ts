// What recordUsage refuses before it starts anything (no dumpcap, socket or certificate needed).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RecordError } from '../../agent/src/record/errors';
import { recordUsage } from '../../agent/src/record/record';
import { checkScript } from '../../agent/src/record/script-check';
import { TrafficScript } from '../../agent/src/simulate/traffic-script';
import { TAGS, mixedScript } from './scripts';

const dir = mkdtempSync(join(tmpdir(), 'cumma-record-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(run: () => unknown): RecordError {
  try {
    run();
  } catch (error) {
    if (error instanceof RecordError) return error;
    throw error;
  }
  throw new Error('expected a RecordError');
}

describe('recordUsage refuses at once', () => {
  it('an output in a directory that does not exist', async () => {
    await expect(recordUsage({ script: mixedScript(), output: join(dir, 'nope', 'x.pcapng') })).rejects.toMatchObject({
      code: 'RECORD_OUTPUT',
      message: expect.stringContaining("directory '" + join(dir, 'nope') + "' does not exist"),
    });
  });

  it('an output that is a directory', async () => {
    await expect(recordUsage({ script: mixedScript(), output: dir })).rejects.toMatchObject({ code: 'RECORD_OUTPUT' });
  });

  it('an existing output that is not a pcapng capture, which it keeps', async () => {
    const notes = join(dir, 'notes.txt');
    writeFileSync(notes, 'my notes\n');
    await expect(recordUsage({ script: mixedScript(), output: notes })).rejects.toMatchObject({
      code: 'RECORD_OUTPUT',
      message: expect.stringContaining(`-o ${notes} exists and is not a pcapng capture: record replaces only captures`),
    });
    expect(readFileSync(notes, 'utf8')).toBe('my notes\n');
  });

  it.each([0, -1, Number.NaN, Infinity])('speed %s', async (speed) => {
    await expect(recordUsage({ script: mixedScript(), output: join(dir, 'x.pcapng'), speed })).rejects.toMatchObject({ code: 'RECORD_BAD_OPTION' });
  });
});

describe('checkScript', () => {
  const base = mixedScript();
  const withMessages = (messages: TrafficScript['messages']): TrafficScript => ({ ...base, messages });

  it('accepts the test script and indexes its connections', () => {
    expect([...checkScript(base).keys()].sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it.each([
    ['a message on an unknown connection', withMessages([{ atUs: 0, connection: 9, direction: 'up', bytes: 10, truth: TAGS.text }]), 'message 0 (at 0 µs) is on connection 9, which the script does not define'],
    ['a datagram UDP cannot carry', withMessages([{ atUs: 0, connection: 2, direction: 'up', bytes: 70_000, truth: TAGS.call }]), 'is a 70000-byte datagram; UDP carries at most 65507'],
    ['a TLS message after the close', withMessages([{ atUs: 900_000, connection: 3, direction: 'up', bytes: 10, truth: TAGS.tiles }]), 'is sent on connection 3 after it closes at 800000 µs'],
    ['a message of no bytes', withMessages([{ atUs: 0, connection: 0, direction: 'up', bytes: 0, truth: TAGS.text }]), 'has 0 bytes; expected a positive integer'],
    ['a connection defined twice', { ...base, connections: [...base.connections, base.connections[0]!] }, 'connection 0 is defined twice'],
    ['a close before the open', { ...base, connections: [{ ...base.connections[0]!, closeUs: -1 }] , messages: [] }, 'connection 0 closes at -1 µs, before it opens at 0 µs'],
  ])('refuses %s', (_what, script, message) => {
    const error = refusal(() => checkScript(script));
    expect(error.code).toBe('RECORD_BAD_SCRIPT');
    expect(error.message).toContain(message);
  });
});
