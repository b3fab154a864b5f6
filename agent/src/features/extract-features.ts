/**
 * Computes a dialog's feature vector from its packet log, in the order and with the definitions
 * of feature-schema.ts. Allocates a handful of scratch arrays per dialog (time-ordered columns
 * and one array for sorting), never an object per packet.
 */
import { DialogPacketLog } from './dialog-packet-log';
import { BURST_IDLE_GAP_US, FEATURES, FIRST_PACKETS, IAT_PERCENTILES, LENGTH_BIN_EDGES, LENGTH_PERCENTILES } from './feature-schema';
import { meanOf, percentileOfSorted, populationStd, sumOf } from './statistics';

const US_PER_S = 1_000_000;
const US_PER_MS = 1_000;

/** Indices of the log's packets in time order (stable), or undefined when already in order. */
function timeOrder(log: DialogPacketLog): Uint32Array | undefined {
  const n = log.length;
  let ordered = true;
  for (let i = 1; i < n && ordered; i++) ordered = log.timestampUs(i) >= log.timestampUs(i - 1);
  if (ordered) return undefined;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // The index tie-break keeps arrival order among equal timestamps.
  return order.sort((a, b) => log.timestampUs(a) - log.timestampUs(b) || a - b);
}

function binOf(length: number): number {
  let bin = 0;
  while (bin < LENGTH_BIN_EDGES.length && length >= LENGTH_BIN_EDGES[bin]!) bin++;
  return bin;
}

/**
 * Writes one direction's features at `at` and returns the next position. `times` (µs) and
 * `lengths` (bytes) are that direction's packets in time order; `scratch` holds at least
 * times.length values.
 */
function writeDirection(out: Float64Array, at: number, times: Float64Array, lengths: Float64Array, dialogDurationS: number, scratch: Float64Array): number {
  const count = times.length;
  const bytes = sumOf(lengths);
  out[at++] = count;
  out[at++] = bytes;
  out[at++] = count > 1 ? (times[count - 1]! - times[0]!) / US_PER_S : 0;
  out[at++] = dialogDurationS > 0 ? count / dialogDurationS : 0;
  out[at++] = dialogDurationS > 0 ? bytes / dialogDurationS : 0;

  // Lengths: min and max come from the sorted copy, so no initial value can leak into them.
  const sortedLengths = scratch.subarray(0, count);
  sortedLengths.set(lengths);
  sortedLengths.sort();
  const meanLength = meanOf(lengths);
  out[at++] = count > 0 ? sortedLengths[0]! : 0;
  out[at++] = count > 0 ? sortedLengths[count - 1]! : 0;
  out[at++] = meanLength;
  out[at++] = populationStd(lengths, meanLength);
  for (const p of LENGTH_PERCENTILES) out[at++] = percentileOfSorted(sortedLengths, p);

  // Inter-arrival times, ms.
  const iats = scratch.subarray(0, Math.max(0, count - 1));
  for (let i = 1; i < count; i++) iats[i - 1] = (times[i]! - times[i - 1]!) / US_PER_MS;
  const meanIat = meanOf(iats);
  const stdIat = populationStd(iats, meanIat);
  iats.sort();
  out[at++] = iats.length > 0 ? iats[0]! : 0;
  out[at++] = iats.length > 0 ? iats[iats.length - 1]! : 0;
  out[at++] = meanIat;
  out[at++] = stdIat;
  for (const p of IAT_PERCENTILES) out[at++] = percentileOfSorted(iats, p);

  // Length histogram, as fractions of this direction's packets.
  const histogramAt = at;
  at += LENGTH_BIN_EDGES.length + 1;
  for (let i = 0; i < count; i++) out[histogramAt + binOf(lengths[i]!)]! += 1;
  if (count > 0) for (let bin = histogramAt; bin < at; bin++) out[bin]! /= count;

  // Bursts split by idle gaps longer than BURST_IDLE_GAP_US.
  let bursts = 0;
  let burstBytesTotal = 0;
  let burstBytesMax = 0;
  let burstDurationTotalUs = 0;
  let burstStart = 0;
  let burstBytes = 0;
  for (let i = 0; i < count; i++) {
    if (i > 0 && times[i]! - times[i - 1]! > BURST_IDLE_GAP_US) {
      bursts++;
      burstBytesTotal += burstBytes;
      burstBytesMax = Math.max(burstBytesMax, burstBytes);
      burstDurationTotalUs += times[i - 1]! - times[burstStart]!;
      burstStart = i;
      burstBytes = 0;
    }
    burstBytes += lengths[i]!;
  }
  if (count > 0) {
    bursts++;
    burstBytesTotal += burstBytes;
    burstBytesMax = Math.max(burstBytesMax, burstBytes);
    burstDurationTotalUs += times[count - 1]! - times[burstStart]!;
  }
  out[at++] = bursts;
  out[at++] = bursts > 0 ? burstBytesTotal / bursts : 0;
  out[at++] = burstBytesMax;
  out[at++] = bursts > 0 ? burstDurationTotalUs / bursts / US_PER_MS : 0;
  return at;
}

/** The dialog's features: element i is FEATURES[i]. Never NaN or Infinity. */
export function extractFeatures(log: DialogPacketLog): Float64Array {
  const n = log.length;
  const out = new Float64Array(FEATURES.length);
  const order = timeOrder(log);

  // Time-ordered columns: all packets, and the same split by direction (up first, then down).
  const times = new Float64Array(n);
  const lengths = new Float64Array(n);
  const signed = new Float64Array(Math.min(n, FIRST_PACKETS));
  let upCount = 0;
  for (let i = 0; i < n; i++) if (log.isUp(i)) upCount++;
  const byDirectionTimes = new Float64Array(n);
  const byDirectionLengths = new Float64Array(n);
  let nextUp = 0;
  let nextDown = upCount;
  for (let i = 0; i < n; i++) {
    const source = order === undefined ? i : order[i]!;
    const time = log.timestampUs(source);
    const length = log.lengthBytes(source);
    const up = log.isUp(source);
    times[i] = time;
    lengths[i] = length;
    if (i < FIRST_PACKETS) signed[i] = up ? length : -length;
    const slot = up ? nextUp++ : nextDown++;
    byDirectionTimes[slot] = time;
    byDirectionLengths[slot] = length;
  }

  const scratch = new Float64Array(n);
  const dialogDurationS = n > 1 ? (times[n - 1]! - times[0]!) / US_PER_S : 0;
  let at = 0;
  at = writeDirection(out, at, byDirectionTimes.subarray(0, upCount), byDirectionLengths.subarray(0, upCount), dialogDurationS, scratch);
  at = writeDirection(out, at, byDirectionTimes.subarray(upCount), byDirectionLengths.subarray(upCount), dialogDurationS, scratch);
  at = writeDirection(out, at, times, lengths, dialogDurationS, scratch);

  const upBytes = sumOf(byDirectionLengths.subarray(0, upCount));
  const allBytes = sumOf(lengths);
  out[at++] = n > 0 ? upCount / n : 0;
  out[at++] = allBytes > 0 ? upBytes / allBytes : 0;
  for (let i = 0; i < FIRST_PACKETS; i++) out[at++] = i < n ? signed[i]! : 0;
  out[at++] = log.transport === 'tcp' ? 1 : 0;

  if (at !== FEATURES.length) throw new Error(`feature extraction wrote ${at} values, schema has ${FEATURES.length}`);
  return out;
}
