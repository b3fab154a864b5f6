import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IpAnonymizer } from '../../agent/src/anonymize/anonymizer';
import { parseAnonymizeKey } from '../../agent/src/anonymize/key';
import { readCaptureFile } from '../../agent/src/capture/file-reader';
import { dialogJsonWriter } from '../../agent/src/cli/dialog-json';
import { DialogRecord } from '../../agent/src/pipeline/dialog-record';
import { DialogStream } from '../../agent/src/pipeline/dialog-stream';
import { UsageModel } from '../../agent/src/pipeline/usage-model';

const ROOT = join(__dirname, '..', '..');

const RECORD: DialogRecord = {
  l4: 'udp',
  client: { ip: 'fd00:c0:ffee::d5', port: 50761 },
  server: { ip: '192.0.2.53', port: 53 },
  firstUs: 1705312800013692,
  lastUs: 1705312800061299,
  packets: { up: 1, down: 0 },
  bytes: { up: 100, down: 0 },
  capture: 'x.pcapng',
  session: 1,
  dialog: 2,
  startUs: 1705312800013692,
  endUs: 1705312800061299,
  usage: 'unknown',
  confidence: 0.1234,
  scores: { text: 0.5, photo: 1e-7, voice_note: 0, other: 0.4999999 },
  status: 'final',
  outlier: true,
  model: 'default@1',
};

describe('dialog JSON', () => {
  it('writes exactly JSON.stringify(record), odd strings and numbers included', () => {
    const write = dialogJsonWriter();
    const variants: DialogRecord[] = [
      RECORD,
      { ...RECORD, capture: 'we "quote", back\\slash, tab\t, é, emoji 😀 and a lone \ud800.pcapng', model: 'mödel "x"@1' },
      { ...RECORD, capture: 'x.pcapng', confidence: -0, scores: { text: NaN, photo: Infinity, video_call: undefined, streaming: 1e21 } },
      { ...RECORD, client: { ip: 'a"b', port: 1 }, status: 'provisional', outlier: false, usage: 'voice_call' },
      { ...RECORD, scores: {} },
      { ...RECORD, startUs: RECORD.firstUs + 1, endUs: -0, lastUs: 0 },
    ];
    for (const record of [...variants, ...variants]) expect(write(record)).toBe(JSON.stringify(record));
  });

  it('writes exactly JSON.stringify(record) for every dialog of a sample capture, anonymised or not', () => {
    const model = UsageModel.load(join(ROOT, 'models', 'default.json'));
    const records: DialogRecord[] = [];
    const stream = new DialogStream({ capture: 'whatsapp-chat.pcapng', model, onFinal: (record) => records.push(record) });
    readCaptureFile(join(ROOT, 'samples', 'whatsapp-chat.pcapng'), (packet) => stream.push(packet));
    stream.flush();
    expect(records.length).toBeGreaterThan(10);
    const anonymizer = new IpAnonymizer(parseAnonymizeKey('a passphrase for tests').bytes);
    const write = dialogJsonWriter();
    for (const record of records) {
      expect(write(record)).toBe(JSON.stringify(record));
      const anonymised = anonymizer.anonymizeEndpoints(record);
      expect(write(anonymised)).toBe(JSON.stringify(anonymised));
    }
  });
});
