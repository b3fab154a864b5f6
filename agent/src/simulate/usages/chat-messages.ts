/**
 * Messages over the persistent chat connection, each answered by a small acknowledgement or
 * receipt from the other side, as messaging protocols do (server ack for a sent message, a
 * delivery receipt for a received one).
 */
import { DialogContext, MILLISECOND } from '../dialog-context';

/** Acknowledgement/receipt stanza sizes (bytes of plaintext before app framing). */
const ACK_PLAINTEXT: readonly [number, number] = [20, 70];

/**
 * Sends one chat message of `plaintext` bytes at `atUs`; returns when its acknowledgement is
 * planned to arrive.
 */
export function chatMessage(context: DialogContext, atUs: number, direction: 'up' | 'down', plaintext: number): number {
  const { builder, prng, profile, chat, truth } = context;
  const arrived = builder.send(chat, atUs, direction, profile.messageBytes(plaintext), truth);
  const ackDelay = prng.uniform(30, direction === 'up' ? 180 : 90) * MILLISECOND;
  const ackAt = Math.max(atUs + ackDelay, arrived - builder.transferUs(0, direction) / 2);
  return builder.send(chat, ackAt, direction === 'up' ? 'down' : 'up', profile.messageBytes(prng.int(ACK_PLAINTEXT[0], ACK_PLAINTEXT[1])), truth);
}

/** A presence/typing/recording indicator: tiny, unacknowledged. */
export function chatIndicator(context: DialogContext, atUs: number, direction: 'up' | 'down'): number {
  const { builder, prng, profile, chat, truth } = context;
  return builder.send(chat, atUs, direction, profile.messageBytes(prng.int(8, 30)), truth);
}
