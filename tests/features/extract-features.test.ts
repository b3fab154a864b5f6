import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DialogPacketLog } from '../../agent/src/features/dialog-packet-log';
import { extractFeatures } from '../../agent/src/features/extract-features';
import { FEATURES, featureIndex, namedFeatures } from '../../agent/src/features/feature-schema';
import { percentileOfSorted, populationStd } from '../../agent/src/features/statistics';
import { expectFeatures, logOf, PacketRow, T0 } from './expect-features';

// A TCP dialog of 6 packets; the first packet is the largest (an "initial max" must not stick),
// and the means are fractional (integer division would truncate them).
const MIXED: readonly PacketRow[] = [
  [0, 'up', 1500],
  [100, 'down', 60],
  [250, 'up', 90],
  [1000, 'down', 1400],
  [1100, 'up', 200],
  [1300, 'down', 700],
];

const MIXED_EXPECTED: Record<string, number> = {
  // up: lengths 1500, 90, 200 at 0, 250, 1100 ms; sorted 90, 200, 1500
  up_packets_count: 3,
  up_sum_length_bytes: 1790, // 1500 + 90 + 200
  up_duration_s: 1.1, // 1100 ms − 0
  up_rate_packets_per_s: 3 / 1.3, // over the dialog duration 1.3 s = 2.3077
  up_rate_bytes_per_s: 1790 / 1.3, // = 1376.92
  up_min_length_bytes: 90,
  up_max_length_bytes: 1500, // the first packet
  up_mean_length_bytes: 1790 / 3, // 596.667, not 596
  // Σx² = 2250000 + 8100 + 40000 = 2298100; var = (3·2298100 − 1790²)/9 = 3690200/9
  up_std_length_bytes: Math.sqrt(3690200) / 3, // = 640.35
  up_p10_length_bytes: 112, // h = 2·0.1 = 0.2: 90 + 0.2·110
  up_p25_length_bytes: 145, // h = 0.5: 90 + 0.5·110
  up_p50_length_bytes: 200, // h = 1
  up_p75_length_bytes: 850, // h = 1.5: 200 + 0.5·1300
  up_p90_length_bytes: 1240, // h = 1.8: 200 + 0.8·1300
  // up delays 250, 850 ms
  up_min_iat_ms: 250,
  up_max_iat_ms: 850,
  up_mean_iat_ms: 550, // (250 + 850)/2
  up_std_iat_ms: 300, // deviations ±300
  up_p50_iat_ms: 550, // h = 0.5: 250 + 0.5·600
  up_p90_iat_ms: 790, // h = 0.9: 250 + 0.9·600
  up_fraction_length_lt100_bytes: 1 / 3, // 90
  up_fraction_length_200to399_bytes: 1 / 3, // 200
  up_fraction_length_ge1400_bytes: 1 / 3, // 1500
  // bursts: 850 ms > 500 ms splits → [1500, 90] over 0–250 ms, [200] at 1100 ms
  up_bursts_count: 2,
  up_mean_burst_size_bytes: 895, // (1590 + 200)/2
  up_max_burst_size_bytes: 1590,
  up_mean_burst_duration_ms: 125, // (250 + 0)/2

  // down: lengths 60, 1400, 700 at 100, 1000, 1300 ms; sorted 60, 700, 1400
  down_packets_count: 3,
  down_sum_length_bytes: 2160,
  down_duration_s: 1.2, // 1300 − 100 ms
  down_rate_packets_per_s: 3 / 1.3,
  down_rate_bytes_per_s: 2160 / 1.3, // = 1661.54
  down_min_length_bytes: 60, // the first down packet is the smallest
  down_max_length_bytes: 1400,
  down_mean_length_bytes: 720,
  // deviations −660, 680, −20: (435600 + 462400 + 400)/3 = 898400/3
  down_std_length_bytes: Math.sqrt(898400 / 3), // = 547.24
  down_p10_length_bytes: 188, // 60 + 0.2·640
  down_p25_length_bytes: 380, // 60 + 0.5·640
  down_p50_length_bytes: 700,
  down_p75_length_bytes: 1050, // 700 + 0.5·700
  down_p90_length_bytes: 1260, // 700 + 0.8·700
  // down delays 900, 300 ms; sorted 300, 900
  down_min_iat_ms: 300,
  down_max_iat_ms: 900,
  down_mean_iat_ms: 600,
  down_std_iat_ms: 300,
  down_p50_iat_ms: 600,
  down_p90_iat_ms: 840, // 300 + 0.9·600
  down_fraction_length_lt100_bytes: 1 / 3, // 60
  down_fraction_length_400to799_bytes: 1 / 3, // 700
  down_fraction_length_ge1400_bytes: 1 / 3, // 1400: the bin's lower edge is inclusive
  // bursts: 900 ms splits → [60] at 100 ms, [1400, 700] over 1000–1300 ms
  down_bursts_count: 2,
  down_mean_burst_size_bytes: 1080, // (60 + 2100)/2
  down_max_burst_size_bytes: 2100,
  down_mean_burst_duration_ms: 150, // (0 + 300)/2

  // all: lengths 1500, 60, 90, 1400, 200, 700; sorted 60, 90, 200, 700, 1400, 1500
  all_packets_count: 6,
  all_sum_length_bytes: 3950,
  all_duration_s: 1.3,
  all_rate_packets_per_s: 6 / 1.3, // = 4.615
  all_rate_bytes_per_s: 3950 / 1.3, // = 3038.46
  all_min_length_bytes: 60,
  all_max_length_bytes: 1500,
  all_mean_length_bytes: 3950 / 6, // 658.333
  // Σx² = 4751700; var = (6·4751700 − 3950²)/36 = 12907700/36
  all_std_length_bytes: Math.sqrt(12907700) / 6, // = 598.79
  all_p10_length_bytes: 75, // h = 5·0.1 = 0.5: 60 + 0.5·30
  all_p25_length_bytes: 117.5, // h = 1.25: 90 + 0.25·110
  all_p50_length_bytes: 450, // h = 2.5: 200 + 0.5·500
  all_p75_length_bytes: 1225, // h = 3.75: 700 + 0.75·700
  all_p90_length_bytes: 1450, // h = 4.5: 1400 + 0.5·100
  // delays 100, 150, 750, 100, 200 ms; sorted 100, 100, 150, 200, 750
  all_min_iat_ms: 100,
  all_max_iat_ms: 750,
  all_mean_iat_ms: 260, // 1300/5
  // deviations −160, −110, 490, −160, −60: (25600 + 12100 + 240100 + 25600 + 3600)/5 = 61400
  all_std_iat_ms: Math.sqrt(61400), // = 247.79
  all_p50_iat_ms: 150, // h = 2
  all_p90_iat_ms: 530, // h = 3.6: 200 + 0.6·550
  all_fraction_length_lt100_bytes: 2 / 6, // 60, 90
  all_fraction_length_200to399_bytes: 1 / 6, // 200
  all_fraction_length_400to799_bytes: 1 / 6, // 700
  all_fraction_length_ge1400_bytes: 2 / 6, // 1500, 1400
  // bursts: 750 ms splits → [1500, 60, 90] over 0–250 ms, [1400, 200, 700] over 1000–1300 ms
  all_bursts_count: 2,
  all_mean_burst_size_bytes: 1975, // (1650 + 2300)/2
  all_max_burst_size_bytes: 2300,
  all_mean_burst_duration_ms: 275, // (250 + 300)/2

  up_share_packets_fraction: 0.5, // 3/6
  up_share_bytes_fraction: 1790 / 3950, // = 0.4532
  all_packet01_signedlength_bytes: 1500,
  all_packet02_signedlength_bytes: -60,
  all_packet03_signedlength_bytes: 90,
  all_packet04_signedlength_bytes: -1400,
  all_packet05_signedlength_bytes: 200,
  all_packet06_signedlength_bytes: -700,
  // packets 07–10 do not exist: 0
  all_is_tcp_flag: 1,
};

describe('feature extraction', () => {
  it('computes every feature of a mixed two-direction dialog as worked out by hand', () => {
    expectFeatures(extractFeatures(logOf('tcp', MIXED)), MIXED_EXPECTED);
  });

  it('sorts out-of-order packets by time first: same features as the ordered dialog', () => {
    const shuffled = [MIXED[3]!, MIXED[0]!, MIXED[5]!, MIXED[2]!, MIXED[1]!, MIXED[4]!];
    expectFeatures(extractFeatures(logOf('tcp', shuffled)), MIXED_EXPECTED);
  });

  it('gives a one-packet dialog zero durations, rates and delays, and one burst', () => {
    expectFeatures(extractFeatures(logOf('udp', [[0, 'down', 80]])), {
      down_packets_count: 1,
      down_sum_length_bytes: 80,
      down_min_length_bytes: 80,
      down_max_length_bytes: 80,
      down_mean_length_bytes: 80,
      down_p10_length_bytes: 80,
      down_p25_length_bytes: 80,
      down_p50_length_bytes: 80,
      down_p75_length_bytes: 80,
      down_p90_length_bytes: 80,
      down_fraction_length_lt100_bytes: 1,
      down_bursts_count: 1,
      down_mean_burst_size_bytes: 80,
      down_max_burst_size_bytes: 80,
      all_packets_count: 1,
      all_sum_length_bytes: 80,
      all_min_length_bytes: 80,
      all_max_length_bytes: 80,
      all_mean_length_bytes: 80,
      all_p10_length_bytes: 80,
      all_p25_length_bytes: 80,
      all_p50_length_bytes: 80,
      all_p75_length_bytes: 80,
      all_p90_length_bytes: 80,
      all_fraction_length_lt100_bytes: 1,
      all_bursts_count: 1,
      all_mean_burst_size_bytes: 80,
      all_max_burst_size_bytes: 80,
      // durations, rates (0 s dialog), std, delays, up features, up shares (0/1): all 0
      all_packet01_signedlength_bytes: -80,
      // UDP: all_is_tcp_flag 0
    });
  });

  it('gives an up-only dialog zero down features and up shares of 1; the first packet is the minimum', () => {
    // up 40, 1300, 575 bytes at 0, 200, 1000 ms; sorted 40, 575, 1300
    const up: Record<string, number> = {
      packets_count: 3,
      sum_length_bytes: 1915, // 40 + 1300 + 575
      duration_s: 1,
      rate_packets_per_s: 3, // 3 / 1 s
      rate_bytes_per_s: 1915,
      min_length_bytes: 40, // the first packet: an initial value of 0 or +∞ must not stick
      max_length_bytes: 1300,
      mean_length_bytes: 1915 / 3, // 638.333
      // Σx² = 1600 + 1690000 + 330625 = 2022225; var = (3·2022225 − 1915²)/9 = 2399450/9
      std_length_bytes: Math.sqrt(2399450) / 3, // = 516.34
      p10_length_bytes: 147, // 40 + 0.2·535
      p25_length_bytes: 307.5, // 40 + 0.5·535
      p50_length_bytes: 575,
      p75_length_bytes: 937.5, // 575 + 0.5·725
      p90_length_bytes: 1155, // 575 + 0.8·725
      // delays 200, 800 ms
      min_iat_ms: 200,
      max_iat_ms: 800,
      mean_iat_ms: 500,
      std_iat_ms: 300,
      p50_iat_ms: 500,
      p90_iat_ms: 740, // 200 + 0.9·600
      fraction_length_lt100_bytes: 1 / 3, // 40
      fraction_length_400to799_bytes: 1 / 3, // 575
      fraction_length_1200to1399_bytes: 1 / 3, // 1300
      // bursts: 800 ms splits → [40, 1300] over 0–200 ms, [575] at 1000 ms
      bursts_count: 2,
      mean_burst_size_bytes: 957.5, // (1340 + 575)/2
      max_burst_size_bytes: 1340,
      mean_burst_duration_ms: 100, // (200 + 0)/2
    };
    const expected: Record<string, number> = {
      up_share_packets_fraction: 1, // 3/(3+0)
      up_share_bytes_fraction: 1,
      all_packet01_signedlength_bytes: 40,
      all_packet02_signedlength_bytes: 1300,
      all_packet03_signedlength_bytes: 575,
      all_is_tcp_flag: 1,
    };
    for (const [suffix, value] of Object.entries(up)) {
      expected[`up_${suffix}`] = value;
      expected[`all_${suffix}`] = value; // all packets are up
    }
    expectFeatures(extractFeatures(logOf('tcp', [[0, 'up', 40], [200, 'up', 1300], [1000, 'up', 575]])), expected);
  });

  it('handles equal timestamps: zero durations, rates and delays; ties keep arrival order', () => {
    expectFeatures(extractFeatures(logOf('udp', [[0, 'up', 100], [0, 'down', 300], [0, 'up', 50]])), {
      // up 100, 50; sorted 50, 100; h = p
      up_packets_count: 2,
      up_sum_length_bytes: 150,
      up_min_length_bytes: 50,
      up_max_length_bytes: 100,
      up_mean_length_bytes: 75,
      up_std_length_bytes: 25, // deviations ±25
      up_p10_length_bytes: 55, // 50 + 0.1·50
      up_p25_length_bytes: 62.5, // 50 + 0.25·50
      up_p50_length_bytes: 75,
      up_p75_length_bytes: 87.5,
      up_p90_length_bytes: 95,
      up_fraction_length_lt100_bytes: 0.5, // 50
      up_fraction_length_100to199_bytes: 0.5, // 100: lower edge inclusive
      up_bursts_count: 1,
      up_mean_burst_size_bytes: 150,
      up_max_burst_size_bytes: 150,
      down_packets_count: 1,
      down_sum_length_bytes: 300,
      down_min_length_bytes: 300,
      down_max_length_bytes: 300,
      down_mean_length_bytes: 300,
      down_p10_length_bytes: 300,
      down_p25_length_bytes: 300,
      down_p50_length_bytes: 300,
      down_p75_length_bytes: 300,
      down_p90_length_bytes: 300,
      down_fraction_length_200to399_bytes: 1,
      down_bursts_count: 1,
      down_mean_burst_size_bytes: 300,
      down_max_burst_size_bytes: 300,
      // all 100, 300, 50; sorted 50, 100, 300; h = 2p
      all_packets_count: 3,
      all_sum_length_bytes: 450,
      all_min_length_bytes: 50,
      all_max_length_bytes: 300,
      all_mean_length_bytes: 150,
      all_std_length_bytes: Math.sqrt(35000 / 3), // deviations −50, 150, −100: (2500 + 22500 + 10000)/3
      all_p10_length_bytes: 60, // 50 + 0.2·50
      all_p25_length_bytes: 75, // 50 + 0.5·50
      all_p50_length_bytes: 100,
      all_p75_length_bytes: 200, // 100 + 0.5·200
      all_p90_length_bytes: 260, // 100 + 0.8·200
      all_fraction_length_lt100_bytes: 1 / 3,
      all_fraction_length_100to199_bytes: 1 / 3,
      all_fraction_length_200to399_bytes: 1 / 3,
      all_bursts_count: 1,
      all_mean_burst_size_bytes: 450,
      all_max_burst_size_bytes: 450,
      // delays all 0 ms, burst durations 0
      up_share_packets_fraction: 2 / 3,
      up_share_bytes_fraction: 1 / 3, // 150/450
      all_packet01_signedlength_bytes: 100,
      all_packet02_signedlength_bytes: -300,
      all_packet03_signedlength_bytes: 50,
    });
  });

  it('gives all zeros for an empty log (transport unknown)', () => {
    expectFeatures(extractFeatures(new DialogPacketLog()), {});
  });

  it('puts lengths on the histogram bin edges into the upper bin', () => {
    const lengths = [99, 100, 199, 200, 399, 400, 799, 800, 1199, 1200, 1399, 1400];
    const named = namedFeatures(extractFeatures(logOf('udp', lengths.map((length, i): PacketRow => [i, 'up', length]))));
    const histogram = Object.fromEntries(Object.entries(named).filter(([name]) => name.startsWith('up_fraction_length_')));
    expect(histogram).toEqual({
      up_fraction_length_lt100_bytes: 1 / 12, // 99
      up_fraction_length_100to199_bytes: 2 / 12, // 100, 199
      up_fraction_length_200to399_bytes: 2 / 12,
      up_fraction_length_400to799_bytes: 2 / 12,
      up_fraction_length_800to1199_bytes: 2 / 12,
      up_fraction_length_1200to1399_bytes: 2 / 12,
      up_fraction_length_ge1400_bytes: 1 / 12, // 1400
    });
  });

  it('keeps only the first 10 packets, in time order, signed by direction', () => {
    const rows: PacketRow[] = Array.from({ length: 12 }, (_, i): PacketRow => [i * 10, i % 3 === 0 ? 'down' : 'up', 100 + i]);
    const named = namedFeatures(extractFeatures(logOf('tcp', rows.reverse())));
    const first = Array.from({ length: 10 }, (_, i) => named[`all_packet${String(i + 1).padStart(2, '0')}_signedlength_bytes`]);
    expect(first).toEqual([-100, 101, 102, -103, 104, 105, -106, 107, 108, -109]);
  });

  it('splits bursts only on gaps strictly longer than 0.5 s', () => {
    const at = (gapMs: number): number => namedFeatures(extractFeatures(logOf('udp', [[0, 'up', 100], [gapMs, 'up', 100]]))).up_bursts_count!;
    expect(at(500)).toBe(1);
    expect(at(500.001)).toBe(2);
  });

  it('never yields NaN or Infinity, and its counts and fractions add up (property)', () => {
    const packet = fc.tuple(fc.integer({ min: 0, max: 3_000_000 }), fc.integer({ min: 0, max: 65_535 }), fc.boolean());
    fc.assert(
      fc.property(fc.array(packet, { maxLength: 40 }), fc.constantFrom('tcp' as const, 'udp' as const, undefined), (packets, transport) => {
        const log = new DialogPacketLog(transport);
        for (const [offset, length, up] of packets) log.push(T0 + offset, length, up);
        const vector = extractFeatures(log);
        expect(vector).toHaveLength(FEATURES.length);
        for (let i = 0; i < vector.length; i++) expect(Number.isFinite(vector[i]), FEATURES[i]!.name).toBe(true);
        const named = namedFeatures(vector);
        expect(named.up_packets_count! + named.down_packets_count!).toBe(packets.length);
        expect(named.all_packets_count).toBe(packets.length);
        for (const direction of ['up', 'down', 'all']) {
          const fractions = Object.entries(named).filter(([name]) => name.startsWith(`${direction}_fraction_length_`));
          const total = fractions.reduce((sum, [, value]) => sum + value, 0);
          expect(total).toBeCloseTo(named[`${direction}_packets_count`]! > 0 ? 1 : 0, 12);
          expect(named[`${direction}_min_iat_ms`]).toBeGreaterThanOrEqual(0);
          expect(named[`${direction}_min_length_bytes`]).toBeLessThanOrEqual(named[`${direction}_p10_length_bytes`]!);
          expect(named[`${direction}_p90_length_bytes`]).toBeLessThanOrEqual(named[`${direction}_max_length_bytes`]!);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('sorts and summarises long and short dialogs alike, whatever was extracted before (property)', () => {
    // Straightforward definitions over copies, to check the in-place insertion sort (short
    // runs), the built-in sort (long runs) and the shared scratch columns bit for bit.
    const stats = (values: number[]) => {
      const sorted = Float64Array.from(values).sort();
      const mean = values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
      return {
        min: sorted.length > 0 ? sorted[0]! : 0,
        max: sorted.length > 0 ? sorted[sorted.length - 1]! : 0,
        mean,
        std: populationStd(Float64Array.from(values), mean),
        p10: percentileOfSorted(sorted, 0.1),
        p50: percentileOfSorted(sorted, 0.5),
        p90: percentileOfSorted(sorted, 0.9),
      };
    };
    const packet = fc.tuple(fc.integer({ min: 0, max: 3_000_000 }), fc.integer({ min: 0, max: 1_600 }), fc.boolean());
    fc.assert(
      fc.property(fc.array(packet, { maxLength: 120 }), fc.array(packet, { maxLength: 300 }), (packets, before) => {
        const logOfPackets = (rows: typeof packets) => {
          const log = new DialogPacketLog('udp');
          for (const [offset, length, up] of rows) log.push(T0 + offset, length, up);
          return log;
        };
        const fresh = extractFeatures(logOfPackets(packets));
        extractFeatures(logOfPackets(before));
        expect(extractFeatures(logOfPackets(packets))).toEqual(fresh);
        const named = namedFeatures(fresh);
        const ordered = packets.map((p, i) => [...p, i] as const).sort((a, b) => a[0] - b[0] || a[3] - b[3]);
        for (const direction of ['up', 'all'] as const) {
          const rows = ordered.filter((p) => direction === 'all' || p[2]);
          const lengths = stats(rows.map((p) => p[1]));
          const iats = stats(rows.slice(1).map((p, i) => (p[0] - rows[i]![0]) / 1000));
          expect([
            named[`${direction}_min_length_bytes`], named[`${direction}_max_length_bytes`], named[`${direction}_mean_length_bytes`], named[`${direction}_std_length_bytes`],
            named[`${direction}_p10_length_bytes`], named[`${direction}_p50_length_bytes`], named[`${direction}_p90_length_bytes`],
            named[`${direction}_min_iat_ms`], named[`${direction}_max_iat_ms`], named[`${direction}_mean_iat_ms`], named[`${direction}_std_iat_ms`],
            named[`${direction}_p50_iat_ms`], named[`${direction}_p90_iat_ms`],
          ]).toEqual([lengths.min, lengths.max, lengths.mean, lengths.std, lengths.p10, lengths.p50, lengths.p90, iats.min, iats.max, iats.mean, iats.std, iats.p50, iats.p90]);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('returns a fresh vector each time, independent of every other one', () => {
    const log = logOf('tcp', [[0, 'up', 100], [5, 'down', 1500]]);
    const vectors = Array.from({ length: 200 }, () => extractFeatures(log));
    const expected = Array.from(vectors[0]!);
    vectors[0]!.fill(-1);
    for (const vector of vectors.slice(1)) expect(Array.from(vector)).toEqual(expected);
    expect(Array.from(extractFeatures(log))).toEqual(expected);
  });

  it('looks features up by name and rejects unknown names', () => {
    expect(FEATURES[featureIndex('all_duration_s')]!.name).toBe('all_duration_s');
    expect(() => featureIndex('all_duration_ms')).toThrow(/unknown feature "all_duration_ms"/);
    expect(() => namedFeatures(new Float64Array(3))).toThrow(/3 values/);
  });
});
