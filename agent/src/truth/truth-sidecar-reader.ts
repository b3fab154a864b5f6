/**
 * Reads a truth sidecar (`CAPTURE.truth.jsonl`) back for `cumma train` and `cumma evaluate`,
 * checking every line: the simulator and the recorder write these files, but people write them
 * by hand too, and a line that is silently skipped or a field read as `undefined` would change
 * the figures without a word. Each bad line is an error naming the file, the line and the member.
 *
 * A hand-written line needs `l4`, `client`, `server`, `usage`, `startUs` and `endUs`; the other
 * members the simulator writes (`capture`, `session`, `dialog`, `packets`, `bytes`) are ignored.
 */
import { parseIpv4, parseIpv6 } from '../anonymize/anonymizer';
import { readFailureText, readRegularFile } from '../common/file-kind';
import { InvalidMemberError, JsonObject } from '../common/json-checks';
import { Endpoint } from '../flows/flow-record';
import { formatIpv4, formatIpv6 } from '../flows/ip-address';
import { USAGE_CLASSES, UsageClass } from '../labels';

/** What labelling a dialog from a sidecar needs of one line. */
export interface SidecarTruth {
  readonly l4: 'tcp' | 'udp';
  readonly client: Endpoint;
  readonly server: Endpoint;
  readonly usage: UsageClass;
  readonly startUs: number;
  readonly endUs: number;
  /** 1-based line number in the file, for messages. */
  readonly line: number;
}

export class TruthSidecarError extends Error {
  override readonly name = 'TruthSidecarError';
  readonly code = 'TRUTH_BAD_SIDECAR';

  constructor(
    readonly path: string,
    /** The bad line; undefined when the file as a whole cannot be read. */
    readonly line: number | undefined,
    readonly detail: string,
  ) {
    super(`${path}: ${line === undefined ? '' : `line ${line}: `}${detail} [TRUTH_BAD_SIDECAR]`);
  }
}

/**
 * Microseconds since the Unix epoch from 1990 on are above this; seconds and milliseconds of
 * any date until 2286 are below it. Times under it are almost surely in the wrong unit.
 */
const PLAUSIBLE_MIN_US = 631_152_000_000_000;

/** Addresses as `cumma flows` prints them (flows/ip-address.ts), so that they match. */
function normalisedIp(text: string): string | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return formatIpv4(v4);
  const v6 = parseIpv6(text);
  return v6 === undefined ? undefined : formatIpv6(v6);
}

function endpoint(record: JsonObject, key: 'client' | 'server'): Endpoint {
  const value = record.object(key, 'an object {"ip": "…", "port": …}');
  const ipText = value.string('ip');
  const ip = normalisedIp(ipText);
  if (ip === undefined) throw new InvalidMemberError(value.pathOf('ip'), `expected an IPv4 or IPv6 address, got ${JSON.stringify(ipText)}`);
  const port = value.number('port', { min: 0, max: 65_535, integer: true });
  return { ip, port };
}

function parseLine(text: string): Omit<SidecarTruth, 'line'> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidMemberError('line', `not JSON (${(error as Error).message})`);
  }
  const record = JsonObject.at(value, 'line', 'a JSON object');
  const l4 = record.oneOf('l4', ['tcp', 'udp'] as const);
  const client = endpoint(record, 'client');
  const server = endpoint(record, 'server');
  const usage = record.oneOf('usage', USAGE_CLASSES);
  const startUs = record.number('startUs', { min: 0, integer: true }, 'µs since the Unix epoch');
  const endUs = record.number('endUs', { min: startUs, integer: true }, 'µs since the Unix epoch, not before startUs');
  if (startUs < PLAUSIBLE_MIN_US) {
    throw new InvalidMemberError(record.pathOf('startUs'), `${startUs} is before 1990 in microseconds since the Unix epoch: seconds or milliseconds? (times are µs)`);
  }
  return { l4, client, server, usage, startUs, endUs };
}

/**
 * The sidecar's text. Only a regular file is read, checked on the open file, opened without
 * blocking: a FIFO would otherwise hang train and evaluate until something wrote to it, and a
 * folder or an unreadable file would surface as a bare EISDIR or EACCES naming no sidecar.
 */
function readSidecarText(path: string): string {
  try {
    return readRegularFile(path);
  } catch (error) {
    throw new TruthSidecarError(path, undefined, `cannot read it: ${readFailureText(error)}`);
  }
}

/** Every line of the sidecar at `path` (blank lines skipped); throws TruthSidecarError. */
export function readTruthSidecar(path: string): SidecarTruth[] {
  const text = readSidecarText(path);
  const records: SidecarTruth[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/^\uFEFF/, '').trim();
    if (line === '') return;
    try {
      records.push({ ...parseLine(line), line: index + 1 });
    } catch (error) {
      if (!(error instanceof InvalidMemberError)) throw error;
      // "line: not JSON" reads better without the root's name; members keep their path.
      const detail = error.member === 'line' ? error.problem : `${error.member.replace(/^line\./, '')}: ${error.problem}`;
      throw new TruthSidecarError(path, index + 1, detail);
    }
  });
  return records;
}
