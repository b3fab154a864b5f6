/**
 * `other`: what a phone sends that is no messaging usage — DNS lookups, NTP, push-notification
 * connections, and OS/app background HTTPS (updates, analytics, configuration).
 */
import { addressIn } from '../app-profiles';
import { DialogContext, DialogGenerator, MILLISECOND, SECOND } from '../dialog-context';

const RESOLVERS = ['8.8.8.8', '1.1.1.1', '9.9.9.9'];
const NTP_SERVERS = ['216.239.35.0', '162.159.200.1', '129.6.15.28'];
const PUSH_SERVERS = ['142.250.', '17.57.'];
const BACKGROUND_PREFIXES = ['142.250.', '52.', '104.16.', '20.'];

function planDns(context: DialogContext, atUs: number): number {
  const { builder, prng, truth } = context;
  const connection = builder.open('udp', 'dns', { ip: prng.pick(RESOLVERS), port: 53 }, atUs, truth);
  const lookups = prng.int(1, 2); // A and AAAA often go out together
  let done = atUs;
  for (let lookup = 0; lookup < lookups; lookup++) {
    const at = atUs + lookup * prng.uniform(0.1, 2) * MILLISECOND;
    builder.send(connection, at, 'up', prng.int(28, 70), truth);
    done = builder.send(connection, at + prng.uniform(5, 80) * MILLISECOND, 'down', prng.int(60, 300), truth);
  }
  return done;
}

function planNtp(context: DialogContext, atUs: number): number {
  const { builder, prng, truth } = context;
  const connection = builder.open('udp', 'ntp', { ip: prng.pick(NTP_SERVERS), port: 123 }, atUs, truth);
  builder.send(connection, atUs, 'up', 48, truth);
  return builder.send(connection, atUs + prng.uniform(10, 120) * MILLISECOND, 'down', 48, truth);
}

function planHttps(context: DialogContext, atUs: number, purpose: 'push' | 'background'): number {
  const { builder, prng, truth } = context;
  const prefix = prng.pick(purpose === 'push' ? PUSH_SERVERS : BACKGROUND_PREFIXES);
  const server = { ip: addressIn(prng, prefix), port: purpose === 'push' ? prng.pick([443, 5228]) : 443 };
  const connection = builder.open('tls', purpose, server, atUs, truth);
  let time = builder.busyUntilUs(connection);
  let done = time;
  const exchanges = prng.int(1, 4);
  for (let exchange = 0; exchange < exchanges; exchange++) {
    builder.send(connection, time, 'up', prng.int(200, purpose === 'push' ? 400 : 2_000), truth);
    done = builder.send(connection, time + prng.uniform(30, 300) * MILLISECOND, 'down', prng.int(150, purpose === 'push' ? 2_000 : 30_000), truth);
    time = done + prng.uniform(0.05, 2) * SECOND;
  }
  builder.close(connection, done + prng.uniform(0.5, 20) * SECOND);
  return done;
}

/** A spell of background activity lasting about durationUs (at least one event). */
export const planBackgroundDialog: DialogGenerator = (context) => {
  const { prng } = context;
  const stopAt = context.startUs + Math.max(context.durationUs, 1);
  let end = context.startUs;
  for (let time = context.startUs; time < stopAt; time += prng.exponential(8) * SECOND) {
    const pick = prng.next();
    const done = pick < 0.5 ? planDns(context, time) : pick < 0.6 ? planNtp(context, time) : pick < 0.8 ? planHttps(context, time, 'push') : planHttps(context, time, 'background');
    end = Math.max(end, done);
  }
  return end;
};
