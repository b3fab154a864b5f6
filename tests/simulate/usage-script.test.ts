import { describe, expect, it } from 'vitest';
import { USAGE_CLASSES } from '../../agent/src/labels';
import { APP_NAMES } from '../../agent/src/simulate/app-profiles';
import { TrafficScript } from '../../agent/src/simulate/traffic-script';
import { MIN_DIALOG_GAP_US, buildTrafficScript } from '../../agent/src/simulate/usage-script';

function dialogKey(message: TrafficScript['messages'][number]): string {
  return `${message.truth.session}/${message.truth.dialog}`;
}

/** On each connection, the first message of a dialog starts at least the gap after the previous dialog's last message. */
function expectDialogsSeparated(script: TrafficScript): void {
  const byConnection = new Map<number, TrafficScript['messages'][number][]>();
  for (const message of script.messages) byConnection.set(message.connection, [...(byConnection.get(message.connection) ?? []), message]);
  for (const messages of byConnection.values()) {
    const lastStart = new Map<string, number>();
    let previous: TrafficScript['messages'][number] | undefined;
    for (const message of messages) {
      if (previous && dialogKey(previous) !== dialogKey(message) && !lastStart.has(dialogKey(message))) {
        expect(message.atUs - previous.atUs, `${dialogKey(previous)} → ${dialogKey(message)}`).toBeGreaterThanOrEqual(MIN_DIALOG_GAP_US * 0.99);
      }
      lastStart.set(dialogKey(message), message.atUs);
      previous = message;
    }
  }
}

describe('traffic scripts', () => {
  it.each(USAGE_CLASSES.flatMap((usage) => APP_NAMES.map((app) => [usage, app] as const)))('plans %s on %s with truth, order and separated dialogs', (usage, app) => {
    const script = buildTrafficScript({ plan: { kind: 'usage', usage }, app, seed: 11, durationS: 90, background: false });
    expect(script.messages.length).toBeGreaterThan(0);
    expect(script.messages.some((message) => message.truth.usage === usage)).toBe(true);
    for (let index = 1; index < script.messages.length; index++) expect(script.messages[index]!.atUs).toBeGreaterThanOrEqual(script.messages[index - 1]!.atUs);
    for (const message of script.messages) {
      expect(script.connections[message.connection]).toBeDefined();
      expect(message.bytes).toBeGreaterThanOrEqual(1);
      expect(message.atUs).toBeGreaterThanOrEqual(script.connections[message.connection]!.openUs);
    }
    // Only keep-alives and connection setup besides the usage itself.
    const usages = new Set(script.messages.map((message) => message.truth.usage));
    expect([...usages].every((seen) => seen === usage || seen === 'other')).toBe(true);
    expectDialogsSeparated(script);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const options = { plan: { kind: 'scenario' } as const, app: 'telegram' as const, durationS: 200, background: true };
    const first = JSON.stringify(buildTrafficScript({ ...options, seed: 5 }));
    expect(JSON.stringify(buildTrafficScript({ ...options, seed: 5 }))).toBe(first);
    expect(JSON.stringify(buildTrafficScript({ ...options, seed: 6 }))).not.toBe(first);
  });

  it('plans a scenario of several usages over one chat connection, in the order given', () => {
    const steps = [{ usage: 'text' }, { usage: 'photo' }, { usage: 'voice_call', durationS: 12 }, { usage: 'text' }] as const;
    const script = buildTrafficScript({ plan: { kind: 'scenario', steps }, app: 'whatsapp', seed: 3, durationS: 60, background: false });
    const call = script.messages.filter((message) => message.truth.usage === 'voice_call' && script.connections[message.connection]!.kind === 'udp');
    // 12 s of media plus STUN checks before the answer.
    expect(call[call.length - 1]!.atUs - call[0]!.atUs).toBeGreaterThan(12_000_000);
    expect(call[call.length - 1]!.atUs - call[0]!.atUs).toBeLessThan(12_000_000 + 20_000_000);
    const chat = script.connections.find((connection) => connection.purpose === 'chat')!;
    const order: string[] = [];
    for (const message of script.messages) {
      if (message.connection !== chat.id || message.truth.usage === 'other') continue;
      if (order[order.length - 1] !== message.truth.usage) order.push(message.truth.usage);
    }
    expect(order).toEqual(['text', 'photo', 'voice_call', 'text']);
    expect(script.connections.filter((connection) => connection.purpose === 'chat')).toHaveLength(1);
    expectDialogsSeparated(script);
  });

  it('adds background traffic in session 0 when asked', () => {
    const script = buildTrafficScript({ plan: { kind: 'usage', usage: 'text' }, app: 'signal', seed: 9, durationS: 120, background: true });
    const background = script.messages.filter((message) => message.truth.session === 0);
    expect(background.length).toBeGreaterThan(0);
    expect(background.every((message) => message.truth.usage === 'other')).toBe(true);
  });

  it('fills long idle periods of the chat connection with keep-alives', () => {
    const script = buildTrafficScript({ plan: { kind: 'usage', usage: 'streaming' }, app: 'telegram', seed: 4, durationS: 400, background: false });
    const chat = script.connections.find((connection) => connection.purpose === 'chat')!;
    const keepAlives = script.messages.filter((message) => message.connection === chat.id && message.truth.usage === 'other');
    // Telegram pings every 30–60 s: a 400 s stream leaves room for at least six.
    expect(keepAlives.length).toBeGreaterThanOrEqual(12);
  });
});
