/**
 * JSON.stringify(record) for a dialog record, written out by hand (like flow-format.ts's
 * flowJson): `cumma classify` prints tens of thousands of records a second, and the generic
 * serialiser was a tenth of its time. The text is the same, character for character, for every
 * record DialogLabeler builds (its key order, anonymised or not): the tests compare the two.
 *
 * Strings that can hold anything (the capture's file name, the model name) are escaped by
 * JSON.stringify itself, once per distinct value; addresses, the transport, the verdict and the
 * class names are plain ASCII and are checked, not assumed, to need no escaping.
 */
import { DialogRecord } from '../pipeline/dialog-record';

/** Printable ASCII without `"` and `\`: such a string is its own JSON body. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function jsonString(value: string): string {
  return PLAIN.test(value) ? `"${value}"` : JSON.stringify(value);
}

/** JSON.stringify of a number: its shortest round-trip text, `null` for NaN and ±Infinity. */
function jsonNumber(value: number): string {
  return Number.isFinite(value) ? `${value}` : 'null';
}

/** The last value of a repeated string field and its JSON text. */
class StringMemo {
  private value: string | undefined;
  private text = '';

  json(value: string): string {
    if (value !== this.value) {
      this.value = value;
      this.text = JSON.stringify(value);
    }
    return this.text;
  }
}

function scoresJson(scores: DialogRecord['scores']): string {
  let text = '{';
  let first = true;
  for (const key in scores) {
    const value = scores[key as keyof typeof scores];
    // JSON.stringify leaves out undefined members.
    if (value === undefined) continue;
    text += `${first ? '' : ','}${jsonString(key)}:${jsonNumber(value)}`;
    first = false;
  }
  return `${text}}`;
}

/** A serialiser of dialog records (one per output: it remembers the capture and model names). */
export function dialogJsonWriter(): (record: DialogRecord) => string {
  const capture = new StringMemo();
  const model = new StringMemo();
  return (r) => {
    // A dialog's firstUs/lastUs are its startUs/endUs: print each 16-digit time once.
    const firstUs = jsonNumber(r.firstUs);
    const lastUs = jsonNumber(r.lastUs);
    const startUs = r.startUs === r.firstUs ? firstUs : jsonNumber(r.startUs);
    const endUs = r.endUs === r.lastUs ? lastUs : jsonNumber(r.endUs);
    return (
      `{"l4":${jsonString(r.l4)},"client":{"ip":${jsonString(r.client.ip)},"port":${jsonNumber(r.client.port)}},` +
      `"server":{"ip":${jsonString(r.server.ip)},"port":${jsonNumber(r.server.port)}},"firstUs":${firstUs},"lastUs":${lastUs},` +
      `"packets":{"up":${jsonNumber(r.packets.up)},"down":${jsonNumber(r.packets.down)}},"bytes":{"up":${jsonNumber(r.bytes.up)},"down":${jsonNumber(r.bytes.down)}},` +
      `"capture":${capture.json(r.capture)},"session":${jsonNumber(r.session)},"dialog":${jsonNumber(r.dialog)},` +
      `"startUs":${startUs},"endUs":${endUs},"usage":${jsonString(r.usage)},"confidence":${jsonNumber(r.confidence)},` +
      `"scores":${scoresJson(r.scores)},"status":${jsonString(r.status)},"outlier":${r.outlier ? 'true' : 'false'},"model":${model.json(r.model)}}`
    );
  };
}
