/**
 * The dialog feature schema: the single list of features every consumer derives from (model
 * file, CSV export, VS Code details, Lua field list). extractFeatures() returns a Float64Array
 * whose element i is FEATURES[i]. Any change to names, order or definitions bumps
 * FEATURE_SCHEMA_VERSION, since models trained on one version cannot read another.
 *
 * Names are `{direction}_{statistic}_{quantity}_{unit}` (STYLE.md): direction `up`
 * (client→server), `down` (server→client) or `all` (both); context features start with
 * `other` (the host's other flows) and the log-ratio ends in `ratio`. Both perspectives of the
 * CUMMA paper are covered per direction: packet length (original frame length in bytes, as flows
 * count it) and time delay (inter-arrival times).
 *
 * Definitions shared by the dialog's own features:
 * - Order. Packets are sorted by timestamp first (stable: equal timestamps keep arrival order),
 *   so out-of-order captures give the same features as ordered ones and no delay is negative.
 * - Durations. A direction's duration is its last minus its first packet time (0 with fewer than
 *   two packets). Rates (`*_rate_*_per_s`) divide a direction's packets or bytes by the whole
 *   dialog's duration (`all_duration_s`), so up and down rates share a denominator; when that
 *   duration is 0 (a single packet, or all packets at one instant) every rate is 0.
 * - Standard deviation is the population one (divide by n, numpy's default ddof=0): 0 for a
 *   single value.
 * - Percentiles interpolate linearly between closest ranks (numpy's default "linear", R type 7):
 *   for sorted x[0..n-1] and p in [0, 1], h = (n-1)·p, value = x[⌊h⌋] + (h-⌊h⌋)·(x[⌊h⌋+1]-x[⌊h⌋]).
 * - Inter-arrival times (`iat`, ms) are the differences between consecutive packets of the same
 *   direction (for `all`, consecutive packets of the dialog regardless of direction).
 * - Empty values. A statistic over no values (a direction without packets, delays of a direction
 *   with one packet) is 0, never NaN or Infinity; the counts tell the model why.
 * - Length histogram: fixed bins [0,100), [100,200), [200,400), [400,800), [800,1200),
 *   [1200,1400), [1400,∞) bytes, as fractions of the direction's packets (all 0 when empty).
 * - Bursts: a direction's packets split wherever two consecutive ones are more than
 *   BURST_IDLE_GAP_US apart (strictly more, like the dialog gap). A burst's size is its bytes,
 *   its duration last minus first packet time (0 for a one-packet burst).
 * - Up share: up/(up+down) of packets and of bytes, a bounded ratio in [0, 1] (0 for an empty
 *   dialog) instead of up/down, which has no value when nothing went down.
 * - First packets: the lengths of the first FIRST_PACKETS packets in time order, signed by
 *   direction (+ up, − down), 0 past the dialog's last packet.
 * - Transport: 1 for TCP, 0 for UDP.
 *
 * Context features (`other_*`, schema version 2) describe what the *other* flows of the same
 * host did around the dialog, since a dialog alone often cannot tell its usage: a voice and a
 * video call's set-up messages on the chat connection are alike, but the call's concurrent
 * UDP media flow is not; the message announcing a photo sits next to the photo's transfer on
 * another connection. Definitions (host-activity.ts computes them):
 * - Host: the client address of the dialog's flow (the local device that opened it). Every
 *   packet of every flow whose client is that address counts for the host, in both directions.
 * - Window: [L, end + dialog gap], where end is the dialog's last packet time and L is the
 *   first multiple of CONTEXT_BIN_US (0.1 s, counted from the Unix epoch) that is strictly
 *   after start − dialog gap. The dialog is complete exactly when capture time passes
 *   end + dialog gap, so the window is known by then, live as offline; and since the dialog's
 *   own flow is idle for more than the gap before and after it, the only packets of that flow
 *   in the window are the dialog's own.
 * - Other: the host's packets with a timestamp in the window minus the dialog's own packets.
 *   `other_dialogs_count` counts dialogs of the host starting in the window, the dialog itself
 *   not included. Rates divide by the window's length in seconds ((end + gap − L) / 1 s).
 * - Before part (`other_before_*`): the window's part [L, S), S the start of the 0.1-s bin
 *   holding the dialog's first packet (activity leading up to the dialog, e.g. the message
 *   that announces a download).
 * - Out-of-order timestamps: a packet older than the newest one seen so far counts as if it
 *   came at that newest time. Offline corpora (scripts/lib/flow-log-corpus.ts) merge flows by
 *   time, so for a capture whose timestamps go backwards they can differ slightly from
 *   `cumma classify`; for time-ordered captures every path computes identical values.
 */

export const FEATURE_SCHEMA_VERSION = '2';

export interface FeatureSpec {
  /** `{direction}_{statistic}_{quantity}_{unit}`, unique. */
  readonly name: string;
  /** Unit of the value, for display ("bytes", "ms", "fraction", …). */
  readonly unit: string;
  readonly description: string;
}

/** Idle time separating bursts: 0.5 s. */
export const BURST_IDLE_GAP_US = 500_000;

/** Lower edges (bytes) of the length histogram bins after the first; the first bin starts at 0. */
export const LENGTH_BIN_EDGES: readonly number[] = [100, 200, 400, 800, 1200, 1400];

/** How many leading packets have their signed lengths as features. */
export const FIRST_PACKETS = 10;

/** Percentiles of packet lengths and of inter-arrival times, in [0, 1]. */
export const LENGTH_PERCENTILES: readonly number[] = [0.1, 0.25, 0.5, 0.75, 0.9];
export const IAT_PERCENTILES: readonly number[] = [0.5, 0.9];

export type FeatureDirection = 'up' | 'down' | 'all';
export const FEATURE_DIRECTIONS: readonly FeatureDirection[] = ['up', 'down', 'all'];

const DIRECTION_TEXT: Record<FeatureDirection, string> = {
  up: 'client→server packets',
  down: 'server→client packets',
  all: 'all packets of the dialog',
};

function percentileName(p: number): string {
  return `p${Math.round(p * 100)}`;
}

function binName(index: number): string {
  const low = index === 0 ? 0 : LENGTH_BIN_EDGES[index - 1]!;
  const high = LENGTH_BIN_EDGES[index];
  if (index === 0) return `lt${high}`;
  if (high === undefined) return `ge${low}`;
  return `${low}to${high - 1}`;
}

function binText(index: number): string {
  const low = index === 0 ? 0 : LENGTH_BIN_EDGES[index - 1]!;
  const high = LENGTH_BIN_EDGES[index];
  return high === undefined ? `≥ ${low} bytes` : `${low}–${high - 1} bytes`;
}

function directionFeatures(direction: FeatureDirection): FeatureSpec[] {
  const of = DIRECTION_TEXT[direction];
  const specs: FeatureSpec[] = [
    { name: `${direction}_packets_count`, unit: 'packets', description: `Number of ${of}.` },
    { name: `${direction}_sum_length_bytes`, unit: 'bytes', description: `Sum of original frame lengths of ${of}.` },
    { name: `${direction}_duration_s`, unit: 's', description: `Last minus first timestamp of ${of}; 0 with fewer than two.` },
    { name: `${direction}_rate_packets_per_s`, unit: 'packets/s', description: `Number of ${of} divided by the dialog duration (all_duration_s); 0 when that is 0.` },
    { name: `${direction}_rate_bytes_per_s`, unit: 'bytes/s', description: `Bytes of ${of} divided by the dialog duration (all_duration_s); 0 when that is 0.` },
    { name: `${direction}_min_length_bytes`, unit: 'bytes', description: `Smallest frame length of ${of}; 0 when none.` },
    { name: `${direction}_max_length_bytes`, unit: 'bytes', description: `Largest frame length of ${of}; 0 when none.` },
    { name: `${direction}_mean_length_bytes`, unit: 'bytes', description: `Mean frame length of ${of}; 0 when none.` },
    { name: `${direction}_std_length_bytes`, unit: 'bytes', description: `Population standard deviation (÷n) of frame lengths of ${of}; 0 when fewer than two.` },
  ];
  for (const p of LENGTH_PERCENTILES) {
    specs.push({ name: `${direction}_${percentileName(p)}_length_bytes`, unit: 'bytes', description: `${Math.round(p * 100)}th percentile (linear interpolation between closest ranks) of frame lengths of ${of}; 0 when none.` });
  }
  const delays = `inter-arrival times between consecutive ${of}`;
  specs.push(
    { name: `${direction}_min_iat_ms`, unit: 'ms', description: `Smallest of the ${delays}; 0 with fewer than two packets.` },
    { name: `${direction}_max_iat_ms`, unit: 'ms', description: `Largest of the ${delays}; 0 with fewer than two packets.` },
    { name: `${direction}_mean_iat_ms`, unit: 'ms', description: `Mean of the ${delays}; 0 with fewer than two packets.` },
    { name: `${direction}_std_iat_ms`, unit: 'ms', description: `Population standard deviation (÷n) of the ${delays}; 0 with fewer than three packets.` },
  );
  for (const p of IAT_PERCENTILES) {
    specs.push({ name: `${direction}_${percentileName(p)}_iat_ms`, unit: 'ms', description: `${Math.round(p * 100)}th percentile (linear interpolation between closest ranks) of the ${delays}; 0 with fewer than two packets.` });
  }
  for (let bin = 0; bin <= LENGTH_BIN_EDGES.length; bin++) {
    specs.push({ name: `${direction}_fraction_length_${binName(bin)}_bytes`, unit: 'fraction', description: `Fraction of ${of} whose frame length is ${binText(bin)}; 0 when none.` });
  }
  const bursts = `bursts of ${of} (split where consecutive ones are more than ${BURST_IDLE_GAP_US / 1000} ms apart)`;
  specs.push(
    { name: `${direction}_bursts_count`, unit: 'bursts', description: `Number of ${bursts}.` },
    { name: `${direction}_mean_burst_size_bytes`, unit: 'bytes', description: `Mean bytes per burst over the ${bursts}; 0 when none.` },
    { name: `${direction}_max_burst_size_bytes`, unit: 'bytes', description: `Largest bytes of one burst among the ${bursts}; 0 when none.` },
    { name: `${direction}_mean_burst_duration_ms`, unit: 'ms', description: `Mean duration (last minus first packet time) of the ${bursts}; 0 when none.` },
  );
  return specs;
}

function firstPacketName(index: number): string {
  return `all_packet${String(index + 1).padStart(2, '0')}_signedlength_bytes`;
}

function buildFeatures(): readonly FeatureSpec[] {
  const specs: FeatureSpec[] = [];
  for (const direction of FEATURE_DIRECTIONS) specs.push(...directionFeatures(direction));
  specs.push(
    { name: 'up_share_packets_fraction', unit: 'fraction', description: 'Up packets / (up + down packets), in [0, 1]; 0 for an empty dialog.' },
    { name: 'up_share_bytes_fraction', unit: 'fraction', description: 'Up bytes / (up + down bytes), in [0, 1]; 0 for an empty dialog.' },
  );
  for (let index = 0; index < FIRST_PACKETS; index++) {
    specs.push({ name: firstPacketName(index), unit: 'bytes', description: `Frame length of the dialog's packet #${index + 1} in time order, + when up, − when down; 0 when the dialog has fewer packets.` });
  }
  specs.push({ name: 'all_is_tcp_flag', unit: 'flag', description: 'Transport of the dialog: 1 for TCP, 0 for UDP.' });
  return Object.freeze(specs.map((spec) => Object.freeze(spec)));
}

/** Bin of the context window's start (see the file comment): 0.1 s. */
export const CONTEXT_BIN_US = 100_000;

const OTHER = "the host's other packets in the context window (see the file comment)";

/** The context features, in vector order: they follow the dialog's own features. */
export const CONTEXT_FEATURES: readonly FeatureSpec[] = [
  { name: 'other_udp_sum_length_bytes', unit: 'bytes', description: `Sum of original frame lengths of the UDP packets among ${OTHER}.` },
  { name: 'other_udp_mean_length_bytes', unit: 'bytes', description: `Mean frame length of the UDP packets among ${OTHER}; 0 when none.` },
  { name: 'other_udp_rate_bytes_per_s', unit: 'bytes/s', description: `other_udp_sum_length_bytes divided by the window length in seconds.` },
  { name: 'other_tcp_up_sum_length_bytes', unit: 'bytes', description: `Sum of frame lengths of the client→server TCP packets among ${OTHER}.` },
  { name: 'other_tcp_down_sum_length_bytes', unit: 'bytes', description: `Sum of frame lengths of the server→client TCP packets among ${OTHER}.` },
  { name: 'other_all_rate_bytes_per_s', unit: 'bytes/s', description: `Bytes of all ${OTHER} (UDP and TCP) divided by the window length in seconds.` },
  { name: 'other_dialogs_count', unit: 'dialogs', description: "Dialogs of the host's other flows that start in the context window." },
  { name: 'other_all_bytes_log_ratio', unit: 'ln', description: `ln((1 + bytes of ${OTHER}) / (1 + the dialog's own bytes)).` },
  { name: 'other_before_udp_sum_length_bytes', unit: 'bytes', description: `Like other_udp_sum_length_bytes, over the window's part before the dialog: [L, S).` },
  { name: 'other_before_tcp_up_sum_length_bytes', unit: 'bytes', description: `Like other_tcp_up_sum_length_bytes, over the window's part before the dialog: [L, S).` },
  { name: 'other_before_tcp_down_sum_length_bytes', unit: 'bytes', description: `Like other_tcp_down_sum_length_bytes, over the window's part before the dialog: [L, S).` },
  { name: 'other_before_dialogs_count', unit: 'dialogs', description: `Like other_dialogs_count, for dialogs starting in the window's part before the dialog: [L, S).` },
];

/** The dialog's own features (extractFeatures), before the context features. */
export const OWN_FEATURE_COUNT = buildFeatures().length;

/** Position of the first context feature in the vector. */
export const CONTEXT_OFFSET = OWN_FEATURE_COUNT;

/** Every feature, in the order of extractFeatures()'s vector: own features, then context features. */
export const FEATURES: readonly FeatureSpec[] = Object.freeze([...buildFeatures(), ...CONTEXT_FEATURES.map((spec) => Object.freeze({ ...spec }))]);

const INDEX = new Map(FEATURES.map((spec, index) => [spec.name, index]));

/** Position of a feature in the vector; throws for a name not in the schema. */
export function featureIndex(name: string): number {
  const index = INDEX.get(name);
  if (index === undefined) throw new RangeError(`unknown feature ${JSON.stringify(name)} (schema version ${FEATURE_SCHEMA_VERSION})`);
  return index;
}

/** A feature vector as name → value, for display, CSV rows and tests. */
export function namedFeatures(vector: Float64Array): Record<string, number> {
  if (vector.length !== FEATURES.length) throw new RangeError(`feature vector has ${vector.length} values, schema version ${FEATURE_SCHEMA_VERSION} has ${FEATURES.length}`);
  const named: Record<string, number> = {};
  FEATURES.forEach((spec, index) => (named[spec.name] = vector[index]!));
  return named;
}
