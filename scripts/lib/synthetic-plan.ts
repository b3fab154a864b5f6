/**
 * The plan of a synthetic capture: which flows exist (kind, endpoints, packet budget) and when
 * each starts. Small (one record per flow); the packets themselves are produced later, flow by
 * flow, from each flow's own seed.
 */
import { deriveSeed, Prng } from '../../agent/src/common/prng';
import { buildScript, FlowKind, MIN_PACKETS } from './synthetic-flows';

export interface FlowPlan {
  readonly index: number;
  readonly kind: FlowKind;
  readonly packets: number;
  readonly ipv6: boolean;
  /** Client host number within its address family. */
  readonly host: number;
  readonly clientPort: number;
  /** Server number within the kind's server pool. */
  readonly server: number;
  readonly serverPort: number;
  /** Seed of the flow's own random stream (script, payload variety, ISNs). */
  readonly seed: number;
  /** µs after the capture start. */
  readonly startUs: number;
  readonly durationUs: number;
}

export interface PlanOptions {
  packets: number;
  flows: number;
  seed: number;
  /** Share of all flows open at a typical moment (sets the capture's time span). */
  activeShare?: number;
}

const SHARE_DNS = 0.25;
const SHARE_CALL = 0.05;
const SHARE_IPV6 = 0.15;
/** Share of the packets beyond each flow's minimum that calls get (when there are calls). */
const CALL_PACKET_SHARE = 0.3;
/** Client hosts are sized so each has about this many flows (ephemeral ports never repeat). */
const FLOWS_PER_HOST = 50;
export const TLS_SERVERS = 64;
export const CALL_SERVERS = 32;
/**
 * Call relay ports near STUN/TURN's 3478 (as messaging apps use) but with no Wireshark
 * dissector registered, so RTP-like payload shows as plain UDP data.
 */
const CALL_PORTS = [3480, 3481, 3482] as const;

/** Kinds in a seeded random order: the exact counts are fixed, the arrangement is not. */
function assignKinds(flows: number, rng: Prng): FlowKind[] {
  const calls = Math.round(flows * SHARE_CALL);
  const dns = Math.min(flows - 1, Math.round(flows * SHARE_DNS));
  const kinds: FlowKind[] = [];
  for (let i = 0; i < flows; i++) kinds.push(i < calls ? FlowKind.Call : i < calls + dns ? FlowKind.Dns : FlowKind.Tls);
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  return kinds;
}

/**
 * Packet budgets: each flow gets its kind's minimum, and the rest is shared out in proportion to
 * heavy-tailed (log-normal) weights, so most flows are short and a few are large, as in real
 * traffic. Integer shares use largest remainders so the total is exact.
 */
function assignBudgets(kinds: readonly FlowKind[], packets: number, rng: Prng): number[] {
  const budgets = kinds.map((k) => MIN_PACKETS[k]);
  const required = budgets.reduce((a, b) => a + b, 0);
  if (packets < required) {
    throw new RangeError(`${kinds.length} flows need at least ${required} packets (got ${packets})`);
  }
  const surplus = packets - required;
  const weights = kinds.map((k) =>
    k === FlowKind.Dns ? 0 : k === FlowKind.Call ? rng.logNormal(1, 0.8) : rng.logNormal(1, 1.3),
  );
  const hasCalls = kinds.includes(FlowKind.Call);
  const hasTls = kinds.includes(FlowKind.Tls);
  const callShare = hasCalls ? (hasTls ? CALL_PACKET_SHARE : 1) : 0;
  const callWeight = sumWhere(weights, kinds, FlowKind.Call);
  const tlsWeight = sumWhere(weights, kinds, FlowKind.Tls);
  const exact = kinds.map((k, i) =>
    k === FlowKind.Call
      ? (surplus * callShare * weights[i]!) / callWeight
      : k === FlowKind.Tls
        ? (surplus * (1 - callShare) * weights[i]!) / tlsWeight
        : 0,
  );
  let given = 0;
  for (let i = 0; i < exact.length; i++) {
    const whole = Math.floor(exact[i]!);
    budgets[i]! += whole;
    given += whole;
  }
  const byRemainder = exact
    .map((x, i) => ({ i, r: x - Math.floor(x) }))
    .filter(({ i }) => kinds[i] !== FlowKind.Dns)
    .sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0; given < surplus; k++, given++) budgets[byRemainder[k % byRemainder.length]!.i]! += 1;
  return budgets;
}

function sumWhere(weights: readonly number[], kinds: readonly FlowKind[], kind: FlowKind): number {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) if (kinds[i] === kind) sum += weights[i]!;
  return sum;
}

export function planCapture(options: PlanOptions): FlowPlan[] {
  const { packets, flows, seed } = options;
  const activeShare = options.activeShare ?? 0.2;
  if (!Number.isInteger(flows) || flows < 1) throw new RangeError(`flows must be a positive integer, got ${flows}`);
  if (!Number.isInteger(packets) || packets < 1) throw new RangeError(`packets must be a positive integer, got ${packets}`);
  if (!(activeShare > 0 && activeShare <= 1)) throw new RangeError(`activeShare must be in (0, 1], got ${activeShare}`);

  const rng = new Prng(seed);
  const kinds = assignKinds(flows, rng);
  const budgets = assignBudgets(kinds, packets, rng);
  const hosts = Math.max(1, Math.ceil(flows / FLOWS_PER_HOST));
  const nextPort = new Map<string, number>();

  const drafts = kinds.map((kind, index) => {
    const ipv6 = rng.chance(SHARE_IPV6);
    const host = rng.int(0, hosts - 1);
    // Ephemeral ports go up per host, like a real stack: never reused within one capture.
    // 50000–54327 is inside Linux's ephemeral range and holds no Wireshark 4.0 UDP port
    // registration (`tshark -G decodes`), so call payload is not fed to an unrelated dissector
    // (47000 would be read as HCrt and reported malformed) nor taken for traceroute (33434+).
    const hostKey = `${ipv6 ? 6 : 4}:${host}`;
    const previous = nextPort.get(hostKey) ?? rng.int(50000, 53000);
    const clientPort = previous + rng.int(1, 3);
    if (clientPort > 54327) throw new Error(`client host ${hostKey} ran out of ephemeral ports`);
    nextPort.set(hostKey, clientPort);
    const server =
      kind === FlowKind.Tls ? rng.int(0, TLS_SERVERS - 1) : kind === FlowKind.Call ? rng.int(0, CALL_SERVERS - 1) : 0;
    const serverPort = kind === FlowKind.Tls ? 443 : kind === FlowKind.Call ? rng.pick(CALL_PORTS) : 53;
    const flowSeed = deriveSeed(seed, index);
    // The script is rebuilt from the same seed when the flow is written; here only its length
    // in time is needed to spread the flows.
    const durationUs = buildScript(kind, budgets[index]!, ipv6, new Prng(flowSeed)).durationUs;
    return { index, kind, packets: budgets[index]!, ipv6, host, clientPort, server, serverPort, seed: flowSeed, durationUs };
  });

  // Spread the starts uniformly over a span chosen so that about activeShare of the flows are
  // open at once: span = total flow time / wanted concurrency.
  const totalDuration = drafts.reduce((a, d) => a + d.durationUs, 0);
  const wantedActive = Math.max(1, flows * activeShare);
  const span = Math.max(1_000_000, totalDuration / wantedActive);
  return drafts.map((d) => ({ ...d, startUs: Math.floor(rng.uniform(0, span)) }));
}
