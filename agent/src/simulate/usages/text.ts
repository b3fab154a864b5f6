/**
 * Text chat: a back-and-forth of short messages with typing indicators and think time between
 * them. Message lengths follow the short-message distribution of instant messaging (median of
 * a few dozen characters, long tail).
 */
import { DialogContext, DialogGenerator, SECOND, logNormalWithin } from '../dialog-context';
import { chatIndicator, chatMessage } from './chat-messages';

export const planTextDialog: DialogGenerator = (context: DialogContext) => {
  const { prng } = context;
  const messages = prng.int(3, 12);
  let time = context.startUs;
  let end = time;
  let direction: 'up' | 'down' = prng.chance(0.5) ? 'up' : 'down';
  for (let index = 0; index < messages; index++) {
    const characters = Math.round(logNormalWithin(prng, 45, 0.9, 1, 1500));
    // UTF-8: most text is ASCII, emoji and other scripts take 2–4 bytes a character.
    const plaintext = Math.round(characters * prng.uniform(1, 1.6));
    const typingUs = Math.min(15 * SECOND, characters * prng.uniform(0.15, 0.35) * SECOND);
    chatIndicator(context, time, direction);
    end = chatMessage(context, time + typingUs, direction, plaintext);
    time = end + logNormalWithin(prng, 3, 0.7, 0.5, 20) * SECOND;
    // Replies are likelier than a second message from the same side.
    if (prng.chance(0.65)) direction = direction === 'up' ? 'down' : 'up';
  }
  return end;
};
