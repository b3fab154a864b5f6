import { describe, expect, it } from 'vitest';
import { IpAnonymizer } from '../../agent/src/anonymize/anonymizer';
import { createAddressRedactor } from '../../agent/src/serve/address-redactor';
import { presentedToken, tokenMatches } from '../../agent/src/serve/auth';
import { parseClientMessage } from '../../agent/src/serve/client-message';
import { resolveLimits } from '../../agent/src/serve/limits';
import { hostname, networkInterfaces } from 'node:os';
import { isOriginAllowed } from '../../agent/src/serve/origin-policy';
import { CoalescingOutbox, OutboxItem } from '../../agent/src/serve/outbox';
import { RateLimiter } from '../../agent/src/serve/rate-limiter';
import { ServedNames } from '../../agent/src/serve/served-names';

const texts = (outbox: CoalescingOutbox): string[] => {
  const out: string[] = [];
  for (let item: OutboxItem | undefined; (item = outbox.shift()) !== undefined; ) out.push(item.kind === 'snapshot' ? 'SNAPSHOT' : item.text);
  return out;
};

describe('CoalescingOutbox', () => {
  it('keeps other messages in order; a newer update of a dialog replaces the queued one; stats keep only the newest', () => {
    const outbox = new CoalescingOutbox();
    outbox.push({ kind: 'message', text: 'm1' });
    outbox.push({ kind: 'dialog', dialogId: 'a', text: 'a1' });
    outbox.push({ kind: 'stats', text: 's1' });
    outbox.push({ kind: 'dialog', dialogId: 'b', text: 'b1' });
    outbox.push({ kind: 'dialog', dialogId: 'a', text: 'a2' });
    outbox.push({ kind: 'message', text: 'm2' });
    outbox.push({ kind: 'stats', text: 's2' });
    expect(outbox.size).toBe(5);
    expect(outbox.bytes).toBe(10);
    expect(texts(outbox)).toEqual(['m1', 'b1', 'a2', 'm2', 's2']);
    expect([outbox.size, outbox.bytes]).toEqual([0, 0]);
  });

  it('a snapshot replaces queued dialog updates and the previous snapshot, and absorbs later updates', () => {
    const outbox = new CoalescingOutbox();
    outbox.push({ kind: 'dialog', dialogId: 'a', text: 'a1' });
    outbox.push({ kind: 'message', text: 'm1' });
    outbox.push({ kind: 'snapshot' });
    outbox.push({ kind: 'dialog', dialogId: 'b', text: 'b1' });
    outbox.push({ kind: 'snapshot' });
    outbox.push({ kind: 'message', text: 'm2' });
    expect(texts(outbox)).toEqual(['m1', 'SNAPSHOT', 'm2']);
    outbox.push({ kind: 'dialog', dialogId: 'c', text: 'c1' });
    outbox.dropDialogs();
    expect(outbox.size).toBe(0);
  });

  it('stays at one entry per dialog under any number of updates', () => {
    const outbox = new CoalescingOutbox();
    for (let round = 0; round < 1000; round++) for (let id = 0; id < 10; id++) outbox.push({ kind: 'dialog', dialogId: String(id), text: `${id}:${round}` });
    expect(outbox.size).toBe(10);
    expect(texts(outbox)).toEqual(Array.from({ length: 10 }, (_, id) => `${id}:999`));
  });
});

describe('RateLimiter', () => {
  it('allows the burst, then the rate; tells once a second; reports sustained flooding', () => {
    let now = 0;
    const limiter = new RateLimiter({ perSecond: 10, burst: 5, maxDroppedPerWindow: 20, abuseWindowMs: 10_000 }, () => now);
    const verdicts = Array.from({ length: 8 }, () => limiter.take());
    expect(verdicts).toEqual(['accept', 'accept', 'accept', 'accept', 'accept', 'drop-and-notify', 'drop', 'drop']);
    now += 100; // one token back
    expect([limiter.take(), limiter.take()]).toEqual(['accept', 'drop']);
    now += 1000; // bucket full again (5), and a new notification second
    expect(Array.from({ length: 6 }, () => limiter.take())).toEqual(['accept', 'accept', 'accept', 'accept', 'accept', 'drop-and-notify']);
    let verdict = limiter.take();
    for (let i = 0; i < 30 && verdict !== 'abusive'; i++) verdict = limiter.take();
    expect(verdict).toBe('abusive');
  });
});

describe('parseClientMessage', () => {
  it('accepts the four client messages', () => {
    expect(parseClientMessage('{"v":1,"type":"subscribe","captures":"*"}')).toEqual({ ok: true, message: { v: 1, type: 'subscribe', captures: '*' } });
    expect(parseClientMessage('{"v":1,"type":"subscribe","captures":["a","b"],"extra":1}')).toEqual({ ok: true, message: { v: 1, type: 'subscribe', captures: ['a', 'b'] } });
    expect(parseClientMessage('{"v":1,"type":"unsubscribe"}')).toEqual({ ok: true, message: { v: 1, type: 'unsubscribe' } });
    expect(parseClientMessage('{"v":1,"type":"watch","path":"/srv/caps"}')).toEqual({ ok: true, message: { v: 1, type: 'watch', path: '/srv/caps' } });
    expect(parseClientMessage('{"v":1,"type":"ping","id":"x"}')).toEqual({ ok: true, message: { v: 1, type: 'ping', id: 'x' } });
  });

  it('keeps error texts short whatever was sent', () => {
    const result = parseClientMessage(JSON.stringify({ v: 1, type: 'x'.repeat(50_000) }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.length).toBeLessThan(200);
    const bad = parseClientMessage(`{${'y'.repeat(50_000)}`);
    if (!bad.ok) expect(bad.error.length).toBeLessThan(250);
  });
});

describe('origin policy', () => {
  it('for an agent bound to 127.0.0.1:7345', () => {
    const own = { host: '127.0.0.1', port: 7345 };
    expect(isOriginAllowed(undefined, own)).toBe(true);
    expect(isOriginAllowed('vscode-webview://abc', own)).toBe(true);
    expect(isOriginAllowed('http://127.0.0.1:7345', own)).toBe(true);
    expect(isOriginAllowed('http://LOCALHOST:7345', own)).toBe(true);
    expect(isOriginAllowed('http://[::1]:7345', own)).toBe(true);
    expect(isOriginAllowed('http://127.0.0.1:7346', own)).toBe(false);
    expect(isOriginAllowed('http://127.0.0.1', own)).toBe(false);
    expect(isOriginAllowed('https://127.0.0.1:7345', own)).toBe(false);
    expect(isOriginAllowed('http://192.168.1.5:7345', own)).toBe(false);
    expect(isOriginAllowed('null', own)).toBe(false);
    expect(isOriginAllowed('vscode-webviewx://abc', own)).toBe(false);
  });

  it('for an agent bound to a LAN address or every interface', () => {
    expect(isOriginAllowed('http://192.168.1.5:80', { host: '192.168.1.5', port: 80 })).toBe(true);
    expect(isOriginAllowed('http://192.168.1.5', { host: '192.168.1.5', port: 80 })).toBe(true);
    expect(isOriginAllowed('http://localhost:80', { host: '192.168.1.5', port: 80 })).toBe(false);
    expect(isOriginAllowed('http://localhost:7345', { host: '0.0.0.0', port: 7345 })).toBe(true);
    expect(isOriginAllowed('http://0.0.0.0:7345', { host: '0.0.0.0', port: 7345 })).toBe(false);
    expect(isOriginAllowed('http://[fe80::1]:7345', { host: 'fe80:0:0::1', port: 7345 })).toBe(true);
  });

  it('bound to every interface, for its page loaded from another machine by address or host name', () => {
    const addresses = Object.values(networkInterfaces())
      .flatMap((list) => list ?? [])
      .filter((a) => !a.internal && (a.family === 'IPv4' || a.scopeid === 0));
    const origins = [`http://${hostname()}:7345`, ...addresses.map((a) => (a.family === 'IPv4' ? `http://${a.address}:7345` : `http://[${a.address}]:7345`))];
    for (const origin of origins) {
      expect(isOriginAllowed(origin, { host: '0.0.0.0', port: 7345 }), origin).toBe(true);
      expect(isOriginAllowed(origin, { host: '::', port: 7345 }), origin).toBe(true);
      // Only when bound to every interface: a loopback agent's page is not served there.
      expect(isOriginAllowed(origin, { host: '127.0.0.1', port: 7345 }), origin).toBe(false);
      expect(isOriginAllowed(origin.replace(':7345', ':7346'), { host: '0.0.0.0', port: 7345 }), origin).toBe(false);
    }
    // An address that is not the machine's, and a rebinding page's own name, stay refused.
    expect(isOriginAllowed('http://192.0.2.254:7345', { host: '0.0.0.0', port: 7345 })).toBe(false);
    expect(isOriginAllowed('http://attacker.example:7345', { host: '0.0.0.0', port: 7345 })).toBe(false);
  });
});

describe('token presentation', () => {
  it('reads Bearer, X-Cumma-Token or ?token=, in that order, and compares exactly', () => {
    expect(presentedToken({ authorization: 'Bearer abc' }, new URLSearchParams('token=q'))).toBe('abc');
    expect(presentedToken({ 'x-cumma-token': 'h' }, new URLSearchParams('token=q'))).toBe('h');
    expect(presentedToken({}, new URLSearchParams('token=q'))).toBe('q');
    expect(presentedToken({ authorization: 'Basic Zm9v' }, new URLSearchParams())).toBeUndefined();
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abd', 'abc')).toBe(false);
    expect(tokenMatches('abcd', 'abc')).toBe(false);
    expect(tokenMatches(undefined, 'abc')).toBe(false);
  });
});

describe('address scrubbing of free text', () => {
  const anonymizer = new IpAnonymizer(new Uint8Array(32).fill(7));
  const redactor = createAddressRedactor(anonymizer, new Uint8Array(32).fill(7), () => undefined);
  it('replaces IPv4, IPv6 (with ports, brackets, zones, mapped) and leaves other text', () => {
    const cases = ['10.0.0.1', 'x:10.0.0.1', '10.0.0.1:443', 'from 10.0.0.1.', '[2001:db8::1]:443', 'at 2001:db8::1.', 'fe80::1%eth0', '::ffff:1.2.3.4', 'a 2001:DB8:0:0:0:0:0:2 b', 'dead:beef::'];
    for (const text of cases) {
      const out = redactor.text(text);
      expect(out, text).not.toBe(text);
      for (const address of ['10.0.0.1', '2001:db8::1', '1.2.3.4', '2001:DB8:0:0:0:0:0:2', 'fe80::1', 'dead:beef']) if (text.includes(address)) expect(out).not.toContain(address);
    }
    expect(redactor.text('at 2001:db8::1.')).toBe(`at ${anonymizer.anonymize('2001:db8::1')}.`);
    expect(redactor.text('at 12:34:56, byte 4096, v1.2')).toBe('at 12:34:56, byte 4096, v1.2');
    expect(redactor.text('10.0.0.1:443')).toBe(`${anonymizer.anonymize('10.0.0.1')}:443`);
  });
});

describe('served capture names', () => {
  it('stay unique and keep to their capture while it is watched; a gone capture\'s name goes to the next that needs it', () => {
    const watched = new Set(['a.pcap', 'A.pcap', 'b.pcap']);
    const names = new ServedNames((name) => name.toLowerCase(), () => watched);
    expect(['a.pcap', 'A.pcap', 'b.pcap'].map((name) => names.of(name))).toEqual(['a.pcap', 'a.pcap#2', 'b.pcap']);
    // Asked again in another order, or after other names came: the same names.
    expect(names.of('A.pcap')).toBe('a.pcap#2');
    watched.delete('a.pcap');
    watched.add('c.pcap');
    expect(names.of('c.pcap')).toBe('c.pcap');
    expect(names.of('A.pcap')).toBe('a.pcap#2');
    // a.pcap is gone: its served name is free for the next capture whose image it is.
    watched.add('a.PCAP');
    expect(names.of('a.PCAP')).toBe('a.pcap');
    expect(names.of('A.pcap')).toBe('a.pcap#2');
  });
});

describe('limits', () => {
  it('refuses a limit that would switch itself off', () => {
    expect(() => resolveLimits({ maxQueuedBytes: 0 })).toThrow(/maxQueuedBytes/);
    expect(() => resolveLimits({ messagesPerSecond: Number.NaN })).toThrow(/messagesPerSecond/);
    expect(resolveLimits({ maxClients: 3 }).maxClients).toBe(3);
  });
});
