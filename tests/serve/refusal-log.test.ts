// Refused handshakes are logged, but a flood of them with 8 KB Origin headers must not flood the
// agent's log: values are cut short and at most 10 refusals a second are logged, the rest summed up.
import { afterEach, describe, expect, it } from 'vitest';
import { RefusalLog } from '../../agent/src/serve/refusal-log';
import { refusedStatus } from './support/clients';
import { startTestServer, TestServer } from './support/server-fixture';

describe('logging of refused handshakes', () => {
  let fixture: TestServer | undefined;
  afterEach(async () => {
    await fixture?.server.close();
  });

  it('cuts long origins and logs at most 10 refusals a second against a real flood', async () => {
    fixture = await startTestServer();
    const origin = `http://${'x'.repeat(8000)}.example`;
    const started = performance.now();
    for (let batch = 0; batch < 10; batch++) {
      const results = await Promise.all(Array.from({ length: 20 }, () => refusedStatus(fixture!.base, { origin })));
      for (const result of results) expect(result.status).toBe(403);
    }
    const elapsedS = (performance.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the last second's summary
    const lines = fixture.logLines.filter((line) => line.includes('refused'));
    const detailed = lines.filter((line) => line.includes('WebSocket from'));
    expect(detailed.length).toBeGreaterThan(0);
    expect(detailed.length).toBeLessThanOrEqual(10 * (Math.ceil(elapsedS) + 1));
    for (const line of lines) expect(line.length).toBeLessThan(400);
    expect(detailed[0]).toContain(`(${origin.length} characters)`);
    const summed = lines.map((line) => /… (\d+) more refused handshakes? not logged/.exec(line)).reduce((sum, match) => sum + (match ? Number(match[1]) : 0), 0);
    expect(detailed.length + summed).toBe(200);
  }, 30_000);

  it('sums up the refusals of a second that were not logged', () => {
    const lines: string[] = [];
    let now = 0;
    const log = new RefusalLog((_level, message) => lines.push(message), 3, () => now);
    for (let i = 0; i < 10; i++) log.refused(`r${i}`);
    now = 1500;
    log.refused('later');
    log.stop();
    expect(lines).toEqual(['r0', 'r1', 'r2', '… 7 more refused handshakes not logged (at most 3 a second are)', 'later']);
  });
});
