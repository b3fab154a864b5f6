// OutputSink on a terminal: rows go out line by line (a person is watching), and a progress bar
// on the same terminal is taken off before each row and drawn again after, instead of the row
// continuing the bar's line.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { OutputSink } from '../../agent/src/cli/output-sink';
import { ProgressBar, renderProgress } from '../../agent/src/cli/progress-bar';

/** A stream writing into `log`, a terminal or not. */
function stream(log: string[], isTTY: boolean): Writable & { isTTY: boolean } {
  const writable = new Writable({
    write(chunk: Buffer, _encoding, done) {
      log.push(chunk.toString());
      done();
    },
  });
  return Object.assign(writable, { isTTY });
}

/** What a terminal shows for `writes`: \r returns to the line's start, later text overwrites. */
function screen(writes: readonly string[]): string[] {
  const lines: string[] = [''];
  let column = 0;
  for (const character of writes.join('')) {
    if (character === '\r') column = 0;
    else if (character === '\n') {
      lines.push('');
      column = 0;
    } else {
      const line = lines[lines.length - 1]!;
      lines[lines.length - 1] = line.slice(0, column) + character + line.slice(column + 1);
      column++;
    }
  }
  return lines.map((line) => line.trimEnd());
}

describe('OutputSink', () => {
  it('writes each line at once to a terminal', () => {
    const log: string[] = [];
    const sink = new OutputSink(stream(log, true));
    sink.line('first');
    expect(log).toEqual(['first\n']);
  });

  it('batches lines to anything else', () => {
    const log: string[] = [];
    const sink = new OutputSink(stream(log, false));
    sink.line('first');
    sink.line('second');
    expect(log).toEqual([]);
    sink.flush();
    expect(log).toEqual(['first\nsecond\n']);
  });

  it('keeps a progress bar on the same terminal off the rows', () => {
    const terminal: string[] = [];
    const sink = new OutputSink(stream(terminal, true));
    const bar = new ProgressBar(stream(terminal, true), 'classifying', 441e6);
    sink.share(bar);
    bar.update(53e6);
    sink.line('10.0.0.2:52825 row one');
    bar.update(120e6);
    sink.line('10.0.0.2:52826 row two');
    expect(screen(terminal)).toEqual(['10.0.0.2:52825 row one', '10.0.0.2:52826 row two', renderProgress('classifying', 120e6, 441e6)]);
    bar.clear();
    sink.line('summary');
    expect(screen(terminal)).toEqual(['10.0.0.2:52825 row one', '10.0.0.2:52826 row two', 'summary', '']);
  });

  it('reports a write error of its stream on the next line, in the commands words', () => {
    const log: string[] = [];
    const out = stream(log, false);
    const sink = new OutputSink(out);
    out.emit('error', Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
    expect(sink.open).toBe(false);
    expect(() => sink.line('x')).toThrow('cannot write standard output: no space left on device');
  });

  it('closes quietly when the reader has gone', () => {
    const out = stream([], false);
    const sink = new OutputSink(out);
    out.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    expect(sink.open).toBe(false);
    sink.line('x');
    sink.flush();
  });
});
