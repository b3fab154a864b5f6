/**
 * Location: a one-off location message, or live location sharing — periodic small position
 * updates over the chat connection for the sharing period, the peer's updates coming back,
 * plus map tiles downloaded over HTTPS from a map server when the map is shown.
 */
import { addressIn } from '../app-profiles';
import { DialogContext, DialogGenerator, MILLISECOND, SECOND } from '../dialog-context';
import { chatMessage } from './chat-messages';

/** Map tile servers (Google's and OpenStreetMap-style CDNs). */
const TILE_PREFIXES = ['142.250.', '172.217.', '151.101.'];

function planTiles(context: DialogContext, atUs: number, tiles: number): number {
  const { builder, prng, truth } = context;
  const prefix = prng.pick(TILE_PREFIXES);
  const server = { ip: addressIn(prng, prefix), port: 443 };
  const connection = builder.open('tls', 'tiles', server, atUs, truth);
  let time = builder.busyUntilUs(connection);
  let done = time;
  for (let tile = 0; tile < tiles; tile++) {
    builder.send(connection, time, 'up', prng.int(300, 700), truth);
    // Vector or raster tiles: a few KB to a few tens of KB each.
    done = builder.send(connection, time + prng.uniform(30, 150) * MILLISECOND, 'down', prng.int(4_000, 40_000), truth);
    // Browsers and map SDKs pipeline a few requests at a time.
    time += prng.uniform(5, 60) * MILLISECOND;
  }
  builder.close(connection, done + prng.uniform(2, 15) * SECOND);
  return done;
}

export const planLocationDialog: DialogGenerator = (context) => {
  const { prng } = context;
  const sending = prng.chance(0.6);
  const direction = sending ? 'up' : 'down';
  const live = context.durationUs >= 60 * SECOND;
  // Opening the map (own or the peer's position) fetches tiles first.
  const tilesDone = planTiles(context, context.startUs, prng.int(6, 20));
  let end = chatMessage(context, context.startUs + prng.uniform(2, 8) * SECOND, direction, prng.int(180, 420));
  if (!live) return Math.max(end, tilesDone);
  const stopAt = context.startUs + context.durationUs;
  for (let time = end + prng.uniform(15, 60) * SECOND; time < stopAt; time += prng.uniform(15, 60) * SECOND) {
    // Each update: coordinates, accuracy, speed, bearing, sequence number.
    end = chatMessage(context, time, prng.chance(0.7) ? direction : direction === 'up' ? 'down' : 'up', prng.int(120, 300));
  }
  return Math.max(end, tilesDone);
};
